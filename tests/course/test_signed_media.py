"""Local section videos (no Qiniu): only short-lived signed links play them, checked at every
request; a refund stops an owner's link at once, an expired or forged link never plays, and the
file is not served at its plain /media/ path."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from apps.course.media import local_link
from apps.course.models import Course, CourseSection
from apps.order import services
from apps.order.models import CourseEntitlement, Order
from tests.course.helpers import CHAPTER_URL
from tests.course.test_media_links import logged_in
from tests.factories import ChapterFactory, CourseFactory, SectionFactory, UserFactory
from tests.order.conftest import alipay, alipay_keys, gateway, make_order  # noqa: F401
from tests.support.qiniu import sample_mp4_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ROOT_URLCONF = "tests.web.urls"  # /media/ mounted, as with SERVE_MEDIA
    return Path(settings.MEDIA_ROOT)


def video_section(course: Course, *, free: bool, name: str) -> tuple[CourseSection, bytes]:
    data = sample_mp4_bytes(5000)
    chapter = course.coursechapters.first() or ChapterFactory(course=course)
    section = SectionFactory.build(chapter=chapter, name=name, free_trial=free, section_link="")
    section.video = ContentFile(data, name=f"{name}.mp4")
    section.save()
    return section, data


def links_of(client, course: Course) -> dict[int, str | None]:
    response = client.get(CHAPTER_URL, {"course": course.pk})
    assert response.status_code == 200, response.content
    return {s["id"]: s["section_link"] for c in response.json() for s in c["coursesections"]}


def play(link: str, **headers) -> tuple[int, bytes]:
    """What anyone holding `link` gets (no cookie, no token: a <video> sends neither)."""
    response = Client().get(urlsplit(link).path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


@pytest.fixture
def bought(make_order, user):  # noqa: F811 (the fixture imported above)
    """A paid course with a paid and a free-trial video, bought by `user` (paid at Alipay)."""
    course = CourseFactory(name="本地视频课", price="49.00")
    paid, paid_data = video_section(course, free=False, name="paid")
    free, free_data = video_section(course, free=True, name="trial")
    order = make_order([course], status=Order.Status.PAID)
    assert CourseEntitlement.objects.filter(user=user, course=course).exists()
    return course, order, (paid, paid_data), (free, free_data)


def test_an_owner_gets_a_signed_link_that_plays_and_seeks(bought, user):
    course, _order, (paid, data), _free = bought

    link = links_of(logged_in(user), course)[paid.pk]

    assert link.startswith("http://testserver/media/signed/") and link.endswith("/")
    assert paid.video.name not in link  # the link names no file
    assert play(link) == (200, data)
    assert play(link, HTTP_RANGE="bytes=100-199") == (206, data[100:200])


def test_the_file_is_not_served_at_its_plain_path(bought, media_root):
    _course, _order, (paid, data), (free, _) = bought
    assert (media_root / paid.video.name).read_bytes() == data  # it is there, on disk

    for section in (paid, free):
        assert Client().get(f"/media/{section.video.name}").status_code == 404


def test_a_refund_stops_the_owners_link_at_once(bought, user, alipay):  # noqa: F811
    course, order, (paid, data), (free, free_data) = bought
    links = links_of(logged_in(user), course)
    assert play(links[paid.pk]) == (200, data)

    alipay.pay(order.out_trade_no, order.total_amount, trade_no=order.trade_no)
    staff = UserFactory(is_staff=True)
    services.refund_order(order, reason="买家申请", staff=staff)

    assert play(links[paid.pk])[0] == 403
    assert play(links[free.pk]) == (200, free_data)  # a free trial plays for anyone
    assert links_of(logged_in(user), course)[paid.pk] is None


def test_a_link_stops_working_after_media_link_ttl(bought, user, settings, monkeypatch):
    course, _order, (paid, data), (free, _) = bought
    settings.MEDIA_LINK_TTL = 600
    links = links_of(logged_in(user), course)
    assert play(links[paid.pk]) == (200, data)

    later = time.time() + 601
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    assert play(links[paid.pk])[0] == 403
    assert play(links_of(logged_in(user), course)[paid.pk]) == (200, data)  # a fresh one
    assert play(links[free.pk])[0] == 200  # a free trial's link lasts while it is one


def test_a_free_trials_link_stops_when_the_section_is_no_free_trial_any_more(bought):
    course, _order, _paid, (free, free_data) = bought
    link = links_of(Client(), course)[free.pk]
    assert play(link) == (200, free_data)
    assert links_of(Client(), course)[free.pk] == link  # the same bytes for every visitor

    CourseSection.objects.filter(pk=free.pk).update(free_trial=False)

    assert play(link)[0] == 403


def test_a_forged_or_borrowed_link_does_not_play(bought, user):
    course, _order, (paid, _data), _free = bought
    stranger = UserFactory()
    link = links_of(logged_in(user), course)[paid.pk]
    token = urlsplit(link).path.split("/")[-2]

    assert play(link.replace(token, token[:-2] + "xx"))[0] == 403
    # signed for someone who owns nothing, or for "anyone" on a section that is no free trial
    assert play(local_link(paid, stranger.pk))[0] == 403
    assert play(local_link(paid, None))[0] == 403
    assert Client().get("/media/signed/not-a-token/").status_code == 403


def test_a_hidden_or_deleted_section_stops_playing(bought, user):
    course, _order, (paid, _data), (free, _) = bought
    links = links_of(logged_in(user), course)

    CourseSection.objects.filter(pk=paid.pk).update(is_delete=True)
    CourseSection.objects.filter(pk=free.pk).update(is_show=False)

    assert play(links[paid.pk])[0] == 403
    assert play(links[free.pk])[0] == 403


def test_links_are_files_never_pages(bought, user):
    course, _order, (paid, _data), _free = bought
    response = Client().get(urlsplit(links_of(logged_in(user), course)[paid.pk]).path)

    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert "private" in response["Cache-Control"]


def test_behind_nginx_the_app_only_checks_and_hands_the_file_over(bought, user, settings):
    course, _order, (paid, _data), _free = bought
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"

    response = Client().get(urlsplit(links_of(logged_in(user), course)[paid.pk]).path)

    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{paid.video.name}"
    assert response["Content-Type"] == "video/mp4"


def test_an_anonymous_visitor_gets_links_for_free_trials_only(bought):
    course, _order, (paid, _), (free, free_data) = bought

    links = links_of(Client(), course)

    assert links[paid.pk] is None
    assert play(links[free.pk]) == (200, free_data)
