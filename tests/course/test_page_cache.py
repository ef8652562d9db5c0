"""The anonymous catalog page cache: hits cost no SQL, and no edit or discount is ever missed."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache as shared_cache
from django.core.cache import caches
from django.utils import timezone
from rest_framework.test import APIClient

from apps.course.cache import VERSION_KEY
from apps.course.media import local_link
from apps.course.models import Course
from tests.factories import ChapterFactory, CourseFactory, SectionFactory

pytestmark = pytest.mark.django_db(transaction=True)  # invalidation happens on commit

LIST = "/api/v1/course/list/"


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.CATALOG_CACHE_SECONDS = 60
    caches["catalog"].clear()
    yield
    caches["catalog"].clear()


def names(response) -> list[str]:
    return [c["name"] for c in response.json()["results"]]


def test_a_repeated_anonymous_read_costs_no_sql(api_client, django_assert_num_queries):
    course = CourseFactory()
    SectionFactory(chapter=ChapterFactory(course=course), free_trial=True)
    for url in [LIST, f"{LIST}{course.pk}/", f"/api/v1/course/chapter/?course={course.pk}",
                "/api/v1/course/search/?search=课程", "/api/v1/course/category/"]:  # fmt: skip
        first = api_client.get(url)
        with django_assert_num_queries(0):
            again = api_client.get(url)
        assert again.status_code == 200 and again.json() == first.json(), url


def test_saving_or_deleting_catalog_rows_shows_at_once(api_client):
    course = CourseFactory(name="旧名字")
    assert names(api_client.get(LIST)) == ["旧名字"]
    course.name = "新名字"
    course.save()
    assert names(api_client.get(LIST)) == ["新名字"]
    extra = CourseFactory(name="第二门")
    assert names(api_client.get(LIST)) == ["新名字", "第二门"]
    extra.delete()
    assert names(api_client.get(LIST)) == ["新名字"]


def test_section_edits_reach_the_chapter_page(api_client):
    section = SectionFactory(free_trial=False, section_link="v/x.mp4")
    url = f"/api/v1/course/chapter/?course={section.chapter.course_id}"
    assert api_client.get(url).json()[0]["coursesections"][0]["section_link"] is None
    section.free_trial = True
    section.save()
    link = api_client.get(url).json()[0]["coursesections"][0]["section_link"]
    assert link == local_link(section, None)  # local media: the free trial's signed link


def test_another_workers_edit_is_seen_after_the_version_check(api_client, settings):
    course = CourseFactory(name="A")
    assert names(api_client.get(LIST)) == ["A"]
    # Another worker edits the row: its bump lands in the shared cache, not in our memory.
    Course.objects.filter(pk=course.pk).update(name="B")
    shared_cache.set(VERSION_KEY, "bumped-by-another-worker", timeout=None)
    settings.CATALOG_VERSION_CHECK_SECONDS = 0
    assert names(api_client.get(LIST)) == ["B"]


def test_a_discount_starting_later_applies_without_any_write(api_client):
    soon = timezone.now() + timedelta(seconds=1.5)
    CourseFactory(
        price=Decimal("100.00"),
        discount_type="限时折扣",
        discount_price=Decimal("60.00"),
        discount_start=soon,
        discount_end=soon + timedelta(days=1),
    )
    before = api_client.get(LIST).json()["results"][0]
    assert (before["real_price"], before["discount_type"]) == ("100.00", "")
    time.sleep(max(0.0, (soon - timezone.now()).total_seconds()) + 0.1)
    after = api_client.get(LIST).json()["results"][0]
    assert (after["real_price"], after["discount_type"]) == ("60.00", "限时折扣")


def test_logged_in_pages_are_never_cached_nor_served_to_others(alipay_owner):
    owner, course, anonymous = alipay_owner
    url = f"/api/v1/course/chapter/?course={course.pk}"
    assert owner.get(url).json()[0]["coursesections"][0]["section_link"] is not None
    assert anonymous.get(url).json()[0]["coursesections"][0]["section_link"] is None
    assert owner.get(url).json()[0]["coursesections"][0]["section_link"] is not None


@pytest.fixture
def alipay_owner(user, auth_client):
    from apps.order.models import CourseEntitlement, Order

    course = CourseFactory()
    SectionFactory(chapter=ChapterFactory(course=course), free_trial=False, section_link="v/p.mp4")
    order = Order.objects.create(
        user=user,
        subject="s",
        total_amount=course.price,
        out_trade_no="t1",
        order_status=Order.Status.PAID,
        expires_at=timezone.now(),
    )
    CourseEntitlement.objects.create(user=user, course=course, order=order)
    return auth_client, course, APIClient()


def test_errors_are_not_cached(api_client):
    assert api_client.get("/api/v1/course/search/?search=").status_code == 400
    assert api_client.get("/api/v1/course/list/999999/").status_code == 404
    course = CourseFactory()
    assert api_client.get(f"/api/v1/course/list/{course.pk}/").status_code == 200


@pytest.mark.parametrize(
    "private, link_ttl, expected",
    [(True, 10, 5), (True, 3600, 60), (False, 10, 60), (True, 1, 1)],
)
def test_cached_pages_never_outlive_half_of_their_signed_links(
    settings, private, link_ttl, expected
):
    from apps.course.cache import page_ttl
    from libs.qiniu import QiniuSettings

    settings.QINIU = QiniuSettings("ak", "sk", "b", "https://v.example.com", private, link_ttl)
    assert page_ttl() == expected


@pytest.mark.parametrize(
    "url",
    [LIST, "/api/v1/course/search/?search=课程", "/api/v1/course/category/"],
)
def test_a_page_asked_for_with_accept_parameters_is_neither_cached_nor_served_from_cache(url):
    """`Accept: application/json; indent=4` renders other bytes: they must not become, or be
    answered with, the page every other visitor gets."""
    CourseFactory()
    indented_client, plain_client = APIClient(), APIClient()
    indented = indented_client.get(url, HTTP_ACCEPT="application/json; indent=4")
    plain = plain_client.get(url, HTTP_ACCEPT="application/json")
    assert b"\n    " in indented.content
    assert b"\n" not in plain.content
    indented_again = indented_client.get(url, HTTP_ACCEPT="application/json; indent=4")
    assert indented_again.content == indented.content
    assert plain_client.get(url).content == plain.content
