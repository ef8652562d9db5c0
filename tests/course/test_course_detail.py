from datetime import date

import pytest

from apps.course.models import Course
from tests.factories import CategoryFactory, ChapterFactory, CourseFactory, SectionFactory

from .helpers import DETAIL_FIELDS, LIST_URL, assert_error, detail_url

pytestmark = pytest.mark.django_db


def test_detail_has_list_fields_plus_pub_date_and_category(api_client):
    category = CategoryFactory(name="Python")
    course = CourseFactory(
        name="Django",
        course_category=category,
        pub_date=date(2024, 5, 6),
        discounted=True,
    )
    chapter = ChapterFactory(course=course, chapter=1)
    sections = [SectionFactory(chapter=chapter, orders=i) for i in range(5)]

    response = api_client.get(detail_url(course.pk))

    assert response.status_code == 200
    body = response.json()
    # The contract fields; other apps may add more (e.g. whether the user owns the course).
    assert set(body) >= DETAIL_FIELDS
    assert body["id"] == course.pk
    assert body["pub_date"] == "2024-05-06"
    assert body["course_category"] == {"id": category.pk, "name": "Python"}
    assert body["price"] == "99.00"
    assert body["real_price"] == "49.90"
    assert body["discount_type"] == "限时折扣"
    assert [s["id"] for s in body["section_list"]] == [s.pk for s in sections[:4]]


def test_detail_matches_the_list_item(api_client):
    course = CourseFactory(discounted=True)
    SectionFactory(chapter=ChapterFactory(course=course), free_trial=True)

    listed = api_client.get(LIST_URL).json()["results"][0]
    detail = api_client.get(detail_url(course.pk)).json()

    assert {k: detail[k] for k in listed} == listed


def test_detail_without_category_or_teacher(api_client):
    course = CourseFactory(course_category=None, teacher=None)

    body = api_client.get(detail_url(course.pk)).json()

    assert body["course_category"] is None
    assert body["teacher"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"is_show": False},
        {"is_delete": True},
        {"status": Course.Status.OFFLINE},
        {"status": Course.Status.PRE_RELEASE},
    ],
    ids=["hidden", "deleted", "offline", "pre-release"],
)
def test_invisible_course_is_404(api_client, fields):
    course = CourseFactory(**fields)

    assert_error(api_client.get(detail_url(course.pk)), 404)


@pytest.mark.parametrize(
    "pk",
    ["0", "424242", "999999999999999999", "99999999999999999999999", "abc", "-1", "1.0"],
)
def test_missing_or_absurd_id_is_404(api_client, pk):
    CourseFactory()

    assert_error(api_client.get(detail_url(pk)), 404)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_detail_is_read_only(api_client, method):
    course = CourseFactory()

    assert_error(getattr(api_client, method)(detail_url(course.pk), {}, format="json"), 405)
    assert Course.objects.filter(pk=course.pk, is_delete=False).exists()
