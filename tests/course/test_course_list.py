from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.course.media import local_link
from apps.course.models import Course
from tests.factories import (
    CategoryFactory,
    ChapterFactory,
    CourseFactory,
    SectionFactory,
    TeacherFactory,
)

from .helpers import (
    COURSE_FIELDS,
    LIST_URL,
    PREVIEW_FIELDS,
    TEACHER_FIELDS,
    assert_error,
    names,
)

pytestmark = pytest.mark.django_db


def only_result(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    return body["results"][0]


# --- shape -------------------------------------------------------------------------------------


def test_course_has_exactly_the_contract_fields(api_client):
    teacher = TeacherFactory(
        name="Alex", role=1, title="导师", signature="sig", brief="about", orders=0
    )
    course = CourseFactory(
        name="Django",
        course_type=Course.CourseType.LIGHT,
        brief="learn it",
        level=Course.Level.ADVANCED,
        period=14,
        students=321,
        sections=12,
        pub_sections=6,
        teacher=teacher,
    )

    item = only_result(api_client.get(LIST_URL))

    assert set(item) == COURSE_FIELDS
    assert set(item["teacher"]) == TEACHER_FIELDS
    assert item["id"] == course.pk
    assert item["name"] == "Django"
    assert item["course_img"] is None
    assert item["course_type"] == "light"
    assert item["course_type_name"] == "轻课"
    assert item["brief"] == "learn it"
    assert item["level_name"] == "高级"
    assert item["status_name"] == "上线"
    assert (item["period"], item["students"], item["sections"], item["pub_sections"]) == (
        14,
        321,
        12,
        6,
    )
    assert item["teacher"] == {
        "id": teacher.pk,
        "name": "Alex",
        "role": 1,
        "role_name": "导师",
        "title": "导师",
        "signature": "sig",
        "image": None,
        "brief": "about",
    }
    assert item["section_list"] == []


def test_course_without_teacher(api_client):
    CourseFactory(teacher=None, course_category=None)

    assert only_result(api_client.get(LIST_URL))["teacher"] is None


def test_uploaded_image_is_an_absolute_url(api_client):
    CourseFactory(course_img="courses/cover.png")

    assert only_result(api_client.get(LIST_URL))["course_img"] == (
        "http://testserver/media/courses/cover.png"
    )


@pytest.mark.parametrize(
    ("price", "shown"),
    [("0", "0.00"), ("99", "99.00"), ("1234.5", "1234.50"), ("99999999.99", "99999999.99")],
)
def test_prices_are_strings_with_two_decimals(api_client, price, shown):
    CourseFactory(price=Decimal(price))

    item = only_result(api_client.get(LIST_URL))

    assert item["price"] == shown
    assert item["real_price"] == shown


@pytest.mark.parametrize(
    ("start", "end", "real_price", "discount_type"),
    [
        pytest.param(-1, 1, "49.90", "限时折扣", id="active"),
        pytest.param(-3, -1, "99.00", "", id="expired"),
        pytest.param(1, 3, "99.00", "", id="not-started"),
    ],
)
def test_discount_shows_only_while_active(api_client, start, end, real_price, discount_type):
    CourseFactory(
        discounted=True,
        discount_start=timezone.now() + timedelta(days=start),
        discount_end=timezone.now() + timedelta(days=end),
    )

    item = only_result(api_client.get(LIST_URL))

    assert item["price"] == "99.00"
    assert item["real_price"] == real_price
    assert item["discount_type"] == discount_type


def test_discount_label_without_discount_price_is_hidden(api_client):
    CourseFactory(discount_type="限时折扣")

    item = only_result(api_client.get(LIST_URL))

    assert item["discount_type"] == ""
    assert item["real_price"] == "99.00"


# --- section previews --------------------------------------------------------------------------


def test_section_list_is_first_four_visible_sections_in_chapter_order(api_client):
    course = CourseFactory()
    # Created out of order on purpose: chapter number, then section `orders`, decide.
    second = ChapterFactory(course=course, chapter=2)
    first = ChapterFactory(course=course, chapter=1)
    hidden_chapter = ChapterFactory(course=course, chapter=0, is_show=False)
    deleted_chapter = ChapterFactory(course=course, chapter=0, is_delete=True)
    SectionFactory(chapter=hidden_chapter, name="in hidden chapter")
    SectionFactory(chapter=deleted_chapter, name="in deleted chapter")
    SectionFactory(chapter=second, name="2.2", orders=2)
    SectionFactory(chapter=second, name="2.1", orders=1)
    SectionFactory(chapter=second, name="2.3", orders=3)
    SectionFactory(chapter=first, name="1.2", orders=2)
    SectionFactory(chapter=first, name="hidden", orders=0, is_show=False)
    SectionFactory(chapter=first, name="deleted", orders=0, is_delete=True)
    SectionFactory(chapter=first, name="1.1", orders=1)

    item = only_result(api_client.get(LIST_URL))

    assert [s["name"] for s in item["section_list"]] == ["1.1", "1.2", "2.1", "2.2"]
    assert all(set(s) == PREVIEW_FIELDS for s in item["section_list"])


def test_section_link_only_for_free_trial(api_client):
    chapter = ChapterFactory(chapter=1)
    free = SectionFactory(
        chapter=chapter, orders=1, free_trial=True, section_link="v/free.mp4", duration="3:00"
    )
    paid = SectionFactory(chapter=chapter, orders=2, section_link="v/paid.mp4")
    free_no_link = SectionFactory(chapter=chapter, orders=3, free_trial=True, section_link="")

    item = only_result(api_client.get(LIST_URL))

    assert item["section_list"] == [
        {
            "id": free.pk,
            "name": free.name,
            "section_link": local_link(free, None),  # local media: a signed link
            "duration": "3:00",
            "free_trail": True,
        },
        {
            "id": paid.pk,
            "name": paid.name,
            "section_link": None,
            "duration": "10:00",
            "free_trail": False,
        },
        {
            "id": free_no_link.pk,
            "name": free_no_link.name,
            "section_link": None,
            "duration": "10:00",
            "free_trail": True,
        },
    ]


def test_section_previews_belong_to_their_own_course(api_client):
    for name in ("A", "B"):
        chapter = ChapterFactory(course=CourseFactory(name=name), chapter=1)
        SectionFactory.create_batch(5, chapter=chapter, name=f"{name}-section")

    results = api_client.get(LIST_URL).json()["results"]

    assert {r["name"]: {s["name"] for s in r["section_list"]} for r in results} == {
        "A": {"A-section"},
        "B": {"B-section"},
    }
    assert all(len(r["section_list"]) == 4 for r in results)


# --- visibility --------------------------------------------------------------------------------


def test_only_shown_online_undeleted_courses_of_every_type(api_client):
    for course_type in Course.CourseType.values:
        CourseFactory(name=f"visible-{course_type}", course_type=course_type)
    CourseFactory(name="hidden", is_show=False)
    CourseFactory(name="deleted", is_delete=True)
    CourseFactory(name="offline", status=Course.Status.OFFLINE)
    CourseFactory(name="pre-release", status=Course.Status.PRE_RELEASE)

    response = api_client.get(LIST_URL)

    assert sorted(names(response)) == ["visible-actual", "visible-free", "visible-light"]
    assert response.json()["count"] == 3


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize("course_type", Course.CourseType.values)
def test_filter_by_course_type(api_client, course_type):
    for value in Course.CourseType.values:
        CourseFactory(name=value, course_type=value)

    assert names(api_client.get(LIST_URL, {"course_type": course_type})) == [course_type]


def test_filter_by_category(api_client):
    python, go = CategoryFactory(), CategoryFactory()
    CourseFactory(name="py1", course_category=python)
    CourseFactory(name="go", course_category=go)
    CourseFactory(name="py2", course_category=python)
    CourseFactory(name="none", course_category=None)

    assert names(api_client.get(LIST_URL, {"course_category": python.pk})) == ["py1", "py2"]


@pytest.fixture
def priced(db):
    """Real prices: free 0, cheap 10, discounted 49.90 (list 99), full 99, expired 99."""
    CourseFactory(name="free", price=Decimal("0"), course_type=Course.CourseType.FREE)
    CourseFactory(name="cheap", price=Decimal("10"))
    CourseFactory(name="discounted", discounted=True)
    CourseFactory(name="full", price=Decimal("99"))
    CourseFactory(
        name="expired",
        discounted=True,
        discount_start=timezone.now() - timedelta(days=3),
        discount_end=timezone.now() - timedelta(days=1),
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"min_price": "49.90"}, ["discounted", "full", "expired"]),
        ({"min_price": "49.91"}, ["full", "expired"]),
        ({"max_price": "49.90"}, ["free", "cheap", "discounted"]),
        ({"max_price": "49.89"}, ["free", "cheap"]),
        ({"max_price": "0"}, ["free"]),
        ({"min_price": "10", "max_price": "50"}, ["cheap", "discounted"]),
        ({"min_price": "50", "max_price": "10"}, []),
    ],
)
def test_price_bounds_apply_to_the_real_price(api_client, priced, params, expected):
    assert names(api_client.get(LIST_URL, params)) == expected


def test_filters_combine(api_client, priced):
    params = {"course_type": "actual", "max_price": "50", "ordering": "-price"}

    assert names(api_client.get(LIST_URL, params)) == ["discounted", "cheap"]


# --- ordering ----------------------------------------------------------------------------------


def test_default_order_is_orders_then_id(api_client):
    CourseFactory(name="c", orders=3)
    CourseFactory(name="a1", orders=1)
    CourseFactory(name="b", orders=2)
    CourseFactory(name="a2", orders=1)

    assert names(api_client.get(LIST_URL)) == ["a1", "a2", "b", "c"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["free", "cheap", "discounted", "full", "expired"]),
        ("-price", ["full", "expired", "discounted", "cheap", "free"]),
    ],
)
def test_ordering_by_real_price(api_client, priced, ordering, expected):
    assert names(api_client.get(LIST_URL, {"ordering": ordering})) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("students", ["few", "many1", "many2", "lots"]),
        ("-students", ["lots", "many1", "many2", "few"]),
        ("orders", ["lots", "few", "many1", "many2"]),
        ("-orders", ["many2", "many1", "few", "lots"]),
    ],
)
def test_ordering_by_students_and_orders(api_client, ordering, expected):
    CourseFactory(name="lots", students=900, orders=1)
    CourseFactory(name="few", students=1, orders=2)
    CourseFactory(name="many1", students=50, orders=3)
    CourseFactory(name="many2", students=50, orders=4)

    assert names(api_client.get(LIST_URL, {"ordering": ordering})) == expected


@pytest.mark.parametrize("ordering", ["students", "-students", "price", "-price"])
def test_pages_never_repeat_or_skip_with_ties(api_client, ordering):
    created = [CourseFactory(students=7, price=Decimal("5")).pk for _ in range(12)]

    seen = []
    for page in (1, 2, 3):
        response = api_client.get(LIST_URL, {"ordering": ordering, "size": 5, "page": page})
        seen += [r["id"] for r in response.json()["results"]]

    assert seen == created


# --- pagination --------------------------------------------------------------------------------


@pytest.fixture
def sixty(db):
    return [CourseFactory(orders=i).pk for i in range(60)]


def test_default_page_is_ten_with_links(api_client, sixty):
    body = api_client.get(LIST_URL).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 60
    assert [r["id"] for r in body["results"]] == sixty[:10]
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/course/list/?page=2"


@pytest.mark.parametrize("param", ["size", "page_size"])
def test_page_size_from_size_or_page_size(api_client, sixty, param):
    body = api_client.get(LIST_URL, {param: 7, "page": 2}).json()

    assert [r["id"] for r in body["results"]] == sixty[7:14]
    assert body["previous"] is not None
    assert body["next"] is not None


@pytest.mark.parametrize("param", ["size", "page_size"])
@pytest.mark.parametrize("value", [50, 51, 1000])
def test_page_size_is_capped_at_50(api_client, sixty, param, value):
    body = api_client.get(LIST_URL, {param: value}).json()

    assert len(body["results"]) == 50
    assert body["count"] == 60


def test_last_page(api_client, sixty):
    body = api_client.get(LIST_URL, {"size": 50, "page": 2}).json()

    assert [r["id"] for r in body["results"]] == sixty[50:]
    assert body["next"] is None


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_bad_page_size_falls_back_to_default(api_client, sixty, value):
    assert len(api_client.get(LIST_URL, {"size": value}).json()["results"]) == 10


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"course_type": "bogus"}, 400),
        ({"course_category": "abc"}, 400),
        ({"course_category": "99999"}, 400),
        ({"course_category": "99999999999999999999999"}, 400),
        ({"min_price": "abc"}, 400),
        ({"min_price": "-1"}, 400),
        ({"min_price": "1e400"}, 400),
        ({"max_price": "NaN"}, 400),
        ({"max_price": "Infinity"}, 400),
        ({"max_price": "100000000"}, 400),
        ({"min_price": "0.001"}, 400),
        ({"ordering": "bogus"}, 400),
        ({"ordering": "name"}, 400),
        ({"ordering": "current_price"}, 400),
        ({"page": "999"}, 404),
        ({"page": "abc"}, 404),
        ({"page": "0"}, 404),
    ],
)
def test_bad_query_values_are_4xx_envelopes(api_client, params, status):
    CourseFactory()

    assert_error(api_client.get(LIST_URL, params), status)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_list_is_read_only(api_client, method):
    assert_error(getattr(api_client, method)(LIST_URL, {}, format="json"), 405)
