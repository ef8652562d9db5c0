"""Who is told where a section's video is: in every catalog response, on every storage.

Free-trial sections: anyone. Any other section: only a logged-in owner of its course (a paid
order). Everyone else gets null, and nothing in the response body gives the video away.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.test import Client
from rest_framework.test import APIClient

from apps.course.models import Course, CourseSection
from apps.order import services
from apps.order.models import CourseEntitlement, Order
from tests.conftest import access_token
from tests.course.helpers import CHAPTER_URL, LIST_URL, SEARCH_URL, detail_url
from tests.factories import ChapterFactory, CourseFactory, SectionFactory, UserFactory
from tests.order.conftest import Keys, alipay_settings, post_form, signed_notify
from tests.support.alipay import generate_keypair
from tests.support.media import keep_upload_records_in, use_qiniu
from tests.support.qiniu import loopback_only, sample_mp4_bytes

pytestmark = pytest.mark.django_db

ENDPOINTS = ["list", "search", "detail", "chapters"]
VIEWERS = ["anonymous", "stranger", "owner"]
STORAGES = ["local", "private", "public"]
NOWHERE = "http://127.0.0.1:9/gateway.do"  # Alipay's gateway: placing an order never calls it


@pytest.fixture(autouse=True)
def _loopback_only():
    with loopback_only():
        yield


@pytest.fixture(scope="module")
def alipay_keys() -> Keys:
    return Keys(app=generate_keypair(), alipay=generate_keypair())


@pytest.fixture(autouse=True)
def _alipay(settings, alipay_keys):
    settings.ALIPAY = alipay_settings(alipay_keys, NOWHERE)


@pytest.fixture
def fake(fake_qiniu):
    return fake_qiniu  # tests/support/media.py


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(params=STORAGES)
def storage(request, settings, fake, media_root, tmp_path, monkeypatch) -> str:
    records = tmp_path / "upload-records"
    records.mkdir()
    keep_upload_records_in(monkeypatch, records)
    if request.param == "private":
        use_qiniu(settings, fake)
    elif request.param == "public":
        use_qiniu(settings, fake, QINIU_PRIVATE_BUCKET="false")
        fake.public = True
    return request.param


@dataclass
class Catalog:
    course: Course
    free: CourseSection
    paid: CourseSection
    data: dict[int, bytes]  # section id -> video bytes


def with_video(chapter, *, free: bool, name: str) -> tuple[CourseSection, bytes]:
    data = sample_mp4_bytes(4000)
    section = SectionFactory.build(chapter=chapter, name=name, free_trial=free, section_link="")
    section.video = ContentFile(data, name=f"{name}.mp4")
    section.save()
    return section, data


def make_catalog() -> Catalog:
    course = CourseFactory(name="MediaCourse 视频课", price="99.90")
    chapter = ChapterFactory(course=course, chapter=1)
    free, free_data = with_video(chapter, free=True, name="trial")
    paid, paid_data = with_video(chapter, free=False, name="paid")
    return Catalog(course, free, paid, {free.pk: free_data, paid.pk: paid_data})


@pytest.fixture
def catalog(storage) -> Catalog:
    return make_catalog()


def buy(user, course: Course, keys: Keys) -> None:
    """Place the order, then Alipay's (signed) notify says it was paid."""
    order = services.place_order(
        buyer=user, course_ids=[course.pk], total_amount=course.real_price
    ).order
    assert post_form(APIClient(), signed_notify(keys, order)).content == b"success"
    assert CourseEntitlement.objects.filter(user=user, course=course).exists()


def logged_in(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(user)}")
    return client


def viewer_client(viewer: str, course: Course, keys: Keys) -> APIClient:
    if viewer == "anonymous":
        return APIClient()
    user = UserFactory()
    if viewer == "owner":
        buy(user, course, keys)
    else:  # a logged-in shopper who only placed an order (not paid) is no owner
        order = services.place_order(
            buyer=user, course_ids=[course.pk], total_amount=course.real_price
        ).order
        assert order.order_status == Order.Status.UNPAID
    return logged_in(user)


def section_links(client: APIClient, endpoint: str, course: Course):
    """The response and {section id: section_link} of `course` as `endpoint` shows it."""
    if endpoint == "chapters":
        response = client.get(CHAPTER_URL, {"course": course.pk})
        assert response.status_code == 200, response.content
        sections = [s for chapter in response.json() for s in chapter["coursesections"]]
    elif endpoint == "detail":
        response = client.get(detail_url(course.pk))
        assert response.status_code == 200, response.content
        sections = response.json()["section_list"]
    else:
        url, query = (LIST_URL, {}) if endpoint == "list" else (SEARCH_URL, {"search": "Media"})
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        [found] = [c for c in response.json()["results"] if c["id"] == course.pk]
        sections = found["section_list"]
    return response, {s["id"]: s["section_link"] for s in sections}


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def deadline_of(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["e"][0])


def play_local(link: str) -> tuple[int, bytes]:
    """A signed local link as anyone holding it fetches it (apps/course/media.py)."""
    response = Client().get(urlsplit(link).path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def assert_playable(link, section: CourseSection, data: bytes, storage: str, fake, media_root):
    key = section.video.name
    if storage == "local":  # a signed link that names no file, served after its checks
        assert link.startswith("http://testserver/media/signed/") and key not in link, link
        assert play_local(link) == (200, data)
        return
    if storage == "public":
        assert link == f"{fake.url}/{key}"
    else:
        assert link.startswith(f"{fake.url}/{key}?e=") and "&token=" in link, link
        assert abs(deadline_of(link) - (time.time() + 3600)) <= 5
    assert fetch(link) == (200, data)


def object_id(section: CourseSection) -> str:
    """The unguessable part of a section's object key."""
    return section.video.name.removeprefix("videos/").removesuffix(".mp4")


# --- the rule, everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_who_gets_a_link(
    catalog, storage, endpoint, viewer, alipay_keys, fake, media_root
):  # fmt: skip
    client = viewer_client(viewer, catalog.course, alipay_keys)

    response, links = section_links(client, endpoint, catalog.course)

    free, paid = catalog.free, catalog.paid
    assert set(links) == {free.pk, paid.pk}
    # a free trial plays for anyone
    assert_playable(links[free.pk], free, catalog.data[free.pk], storage, fake, media_root)
    body = response.content.decode()
    assert (object_id(free) in body) == (storage != "local")  # a local link names no file
    if viewer == "owner":
        assert_playable(links[paid.pk], paid, catalog.data[paid.pk], storage, fake, media_root)
    else:
        assert links[paid.pk] is None
        # nowhere in the body: not the key, not a link to it
        assert object_id(paid) not in body
        assert body.count("token=") == (1 if storage == "private" else 0)


def test_owning_one_course_opens_only_that_course(alipay_keys, storage, fake, media_root):
    mine, other = make_catalog(), make_catalog()
    user = UserFactory()
    buy(user, mine.course, alipay_keys)
    client = logged_in(user)

    _, my_links = section_links(client, "chapters", mine.course)
    response, other_links = section_links(client, "chapters", other.course)

    assert my_links[mine.paid.pk] is not None
    assert other_links[other.paid.pk] is None
    assert object_id(other.paid) not in response.content.decode()


def test_a_stale_or_forged_token_gets_no_link(catalog, alipay_keys):
    user = UserFactory()
    buy(user, catalog.course, alipay_keys)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(user)}x")

    response = client.get(CHAPTER_URL, {"course": catalog.course.pk})

    assert response.status_code == 401
    assert object_id(catalog.paid) not in response.content.decode()


# --- expiry of signed links -----------------------------------------------------------------------


def test_signed_links_expire_after_the_link_ttl(settings, fake, alipay_keys, tmp_path):
    use_qiniu(settings, fake, QINIU_LINK_TTL="1")
    catalog = make_catalog()
    owner = viewer_client("owner", catalog.course, alipay_keys)
    time.sleep(1.02 - time.time() % 1)  # a 1 s link is surely valid for most of a second

    _, links = section_links(owner, "chapters", catalog.course)

    paid_link, free_link = links[catalog.paid.pk], links[catalog.free.pk]
    deadline = deadline_of(paid_link)
    assert deadline - time.time() <= 1
    assert fetch(paid_link) == (200, catalog.data[catalog.paid.pk])
    assert fetch(free_link)[0] == 200
    time.sleep(max(0.0, deadline + 1.1 - time.time()))
    assert fetch(paid_link)[0] == 401
    assert fetch(free_link)[0] == 401
    # asking again gives a fresh link
    _, links = section_links(owner, "chapters", catalog.course)
    assert fetch(links[catalog.paid.pk])[0] == 200


# --- legacy section_link values -------------------------------------------------------------------


def legacy_sections(course, links: dict[str, str], *, free: bool) -> dict[str, CourseSection]:
    chapter = ChapterFactory(course=course, chapter=1)
    return {
        kind: SectionFactory(chapter=chapter, section_link=link, free_trial=free, orders=i)
        for i, (kind, link) in enumerate(links.items())
    }


@pytest.mark.parametrize("viewer", VIEWERS)
def test_legacy_links_on_a_private_bucket(settings, fake, alipay_keys, viewer):
    use_qiniu(settings, fake)
    fake.put_object("legacy/relative.mp4", b"relative")
    fake.put_object("legacy/full.mp4", b"full")
    course = CourseFactory(name="MediaCourse legacy", price="19.90")
    values = {
        "relative": "legacy/relative.mp4",
        "full": f"{fake.url}/legacy/full.mp4",
        "other": "https://cdn.example.com/legacy/other.mp4",
    }
    paid = legacy_sections(course, values, free=False)
    free = legacy_sections(course, {"free-other": "https://cdn.example.com/trial.mp4"}, free=True)
    client = viewer_client(viewer, course, alipay_keys)

    for endpoint in ENDPOINTS:
        response, links = section_links(client, endpoint, course)

        assert links[free["free-other"].pk] == "https://cdn.example.com/trial.mp4"
        if viewer != "owner":
            assert [links[s.pk] for s in paid.values()] == [None, None, None], endpoint
            body = response.content.decode()
            assert "legacy" not in body.replace("MediaCourse legacy", "")
            assert "token=" not in body
            continue
        relative, full = links[paid["relative"].pk], links[paid["full"].pk]
        assert relative.startswith(f"{fake.url}/legacy/relative.mp4?e="), relative
        assert full.startswith(f"{fake.url}/legacy/full.mp4?e="), full
        assert fetch(relative) == (200, b"relative")
        assert fetch(full) == (200, b"full")
        assert links[paid["other"].pk] == "https://cdn.example.com/legacy/other.mp4"


def test_legacy_links_on_a_public_bucket_are_not_signed(settings, fake, alipay_keys):
    use_qiniu(settings, fake, QINIU_PRIVATE_BUCKET="false")
    course = CourseFactory(name="MediaCourse legacy", price="19.90")
    values = {"relative": "legacy/r.mp4", "full": f"{fake.url}/legacy/f.mp4"}
    paid = legacy_sections(course, values, free=False)

    _, links = section_links(viewer_client("owner", course, alipay_keys), "chapters", course)

    assert links[paid["relative"].pk] == f"{fake.url}/legacy/r.mp4"
    assert links[paid["full"].pk] == f"{fake.url}/legacy/f.mp4"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_legacy_links_with_local_storage(media_root, alipay_keys, viewer):
    course = CourseFactory(name="MediaCourse legacy", price="19.90")
    values = {"relative": "legacy/r.mp4", "other": "https://cdn.example.com/legacy/o.mp4"}
    paid = legacy_sections(course, values, free=False)
    client = viewer_client(viewer, course, alipay_keys)

    response, links = section_links(client, "detail", course)

    if viewer == "owner":
        (media_root / "legacy").mkdir(parents=True)
        (media_root / "legacy" / "r.mp4").write_bytes(b"relative")
        assert play_local(links[paid["relative"].pk]) == (200, b"relative")
        assert links[paid["other"].pk] == "https://cdn.example.com/legacy/o.mp4"
    else:
        assert set(links.values()) == {None}
        assert "legacy/" not in response.content.decode()


# --- the anonymous page cache ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_owners_page_is_never_served_to_anonymous_visitors(
    settings, fake, alipay_keys, django_assert_num_queries
):
    settings.CATALOG_CACHE_SECONDS = 60
    settings.CATALOG_VERSION_CHECK_SECONDS = 600  # no version re-read in between: hits cost 0 SQL
    use_qiniu(settings, fake)
    caches["catalog"].clear()
    catalog = make_catalog()
    owner = viewer_client("owner", catalog.course, alipay_keys)
    anonymous = APIClient()
    secret = object_id(catalog.paid)

    try:
        for endpoint in ENDPOINTS:
            _, links = section_links(owner, endpoint, catalog.course)
            assert links[catalog.paid.pk] is not None, endpoint

            response, links = section_links(anonymous, endpoint, catalog.course)
            assert links[catalog.paid.pk] is None, endpoint
            assert secret not in response.content.decode()
            with django_assert_num_queries(0):  # the page cache is really on: a hit
                response, links = section_links(anonymous, endpoint, catalog.course)
            assert links[catalog.paid.pk] is None
            assert secret not in response.content.decode()

            _, links = section_links(owner, endpoint, catalog.course)  # not the cached page
            assert links[catalog.paid.pk] is not None, endpoint
            assert fetch(links[catalog.paid.pk])[0] == 200
    finally:
        caches["catalog"].clear()
