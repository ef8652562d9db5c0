"""Absolute URLs in API bodies come from SITE_URL / MEDIA_BASE_URL, never from the Host header.

Under production settings, anonymous list requests with `Host: 127.0.0.1:6666` used to put that
host into the media links of the cached catalog pages, which every later visitor then received.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from tests.factories import (
    TEST_PASSWORD,
    ChapterFactory,
    CourseFactory,
    OrderFactory,
    OrderLineFactory,
    SectionFactory,
    TeacherFactory,
    UserFactory,
)
from tests.user.helpers import ME_URL, MUL_LOGIN_URL
from utils.public_urls import absolute_url

pytestmark = pytest.mark.django_db(transaction=True)  # the page cache's versions bump on commit

FOREIGN_HOST = "127.0.0.1:6666"  # allowed: ALLOWED_HOSTS has 127.0.0.1, and ports are ignored


@pytest.fixture
def catalog():
    """Two pages of courses with local media: images, a teacher's photo, a free-trial video."""
    teacher = TeacherFactory(image="teacher/t.png")
    courses = [CourseFactory(teacher=teacher, course_img=f"courses/{n}.png") for n in range(12)]
    SectionFactory(
        chapter=ChapterFactory(course=courses[0]), free_trial=True, section_link="v/free.mp4"
    )
    return courses


@pytest.fixture
def page_cache(settings):
    settings.CATALOG_CACHE_SECONDS = 60
    caches["catalog"].clear()
    yield
    caches["catalog"].clear()


def catalog_urls(course) -> list[str]:
    return [
        "/api/v1/course/list/",
        "/api/v1/course/list/?page=2",
        f"/api/v1/course/list/{course.pk}/",
        f"/api/v1/course/chapter/?course={course.pk}",
        "/api/v1/course/search/?search=课程",
    ]


def test_a_foreign_host_fills_the_page_cache_and_later_visitors_see_no_trace_of_it(
    catalog, page_cache
):
    urls = catalog_urls(catalog[0])
    for url in urls:  # the attacker goes first: every page is cached from these requests
        response = APIClient().get(url, HTTP_HOST=FOREIGN_HOST)
        assert response.status_code == 200, url
        assert "6666" not in response.content.decode(), url

    for url in urls:
        body = APIClient().get(url).content.decode()
        assert "6666" not in body, url
    listed = APIClient().get(urls[0]).json()
    assert listed["next"] == "http://testserver/api/v1/course/list/?page=2"
    assert listed["results"][0]["course_img"] == "http://testserver/media/courses/0.png"
    assert listed["results"][0]["teacher"]["image"] == "http://testserver/media/teacher/t.png"
    link = listed["results"][0]["section_list"][0]["section_link"]
    assert link.startswith("http://testserver/media/signed/")  # local media: a signed link
    assert APIClient().get(urls[1]).json()["previous"] == "http://testserver/api/v1/course/list/"


def test_media_links_use_media_base_url_when_it_is_set(catalog, page_cache, settings):
    settings.MEDIA_BASE_URL = "https://media.example.com/luffy/"
    course = APIClient().get(f"/api/v1/course/list/{catalog[0].pk}/", HTTP_HOST=FOREIGN_HOST)
    body = course.json()
    assert body["course_img"] == "https://media.example.com/luffy/courses/0.png"
    # Section links are signed and checked by the app itself: under SITE_URL, not the media host.
    assert body["section_list"][0]["section_link"].startswith("http://testserver/media/signed/")


def test_account_and_order_answers_ignore_the_host_header(auth_client, user):
    me = auth_client.get(ME_URL, HTTP_HOST=FOREIGN_HOST).json()["result"]
    assert me["icon"] == "http://testserver/static/user/default-icon.png"

    UserFactory(username="iconic", icon="icon/a.png")
    login = APIClient().post(
        MUL_LOGIN_URL,
        {"username": "iconic", "password": TEST_PASSWORD},
        format="json",
        HTTP_HOST=FOREIGN_HOST,
    )
    assert login.status_code == 200
    assert login.json()["icon"] == "http://testserver/media/icon/a.png"

    course = CourseFactory(price=Decimal("99.00"), course_img="courses/paid.png")
    OrderLineFactory(order=OrderFactory(user=user, paid=True), course=course)
    [order] = auth_client.get("/api/v1/order/", HTTP_HOST=FOREIGN_HOST).json()["results"]
    assert order["order_courses"][0]["course_img"] == "http://testserver/media/courses/paid.png"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/media/courses/a.png", "http://testserver/media/courses/a.png"),
        ("/static/user/default-icon.png", "http://testserver/static/user/default-icon.png"),
        ("static/x.css", "http://testserver/static/x.css"),
        ("https://cdn.example.com/a.mp4?e=1&token=t", "https://cdn.example.com/a.mp4?e=1&token=t"),
        ("//cdn.example.com/a.png", "//cdn.example.com/a.png"),
        ("", ""),
    ],
)
def test_absolute_url_puts_paths_on_the_configured_site_and_keeps_full_urls(url, expected):
    assert absolute_url(url) == expected
