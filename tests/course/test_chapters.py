import pytest

from apps.course.media import local_link
from apps.course.models import Course, CourseSection
from tests.factories import ChapterFactory, CourseFactory, SectionFactory

from .helpers import CHAPTER_URL, assert_error

pytestmark = pytest.mark.django_db


def get_tree(client, course_id):
    return client.get(CHAPTER_URL, {"course": course_id})


def test_tree_in_chapter_order_with_visible_sections(api_client):
    course = CourseFactory()
    two = ChapterFactory(course=course, chapter=2, name="two", summary="second")
    one = ChapterFactory(course=course, chapter=1, name="one", summary="first")
    ChapterFactory(course=course, chapter=0, name="hidden", is_show=False)
    ChapterFactory(course=course, chapter=0, name="deleted", is_delete=True)
    ChapterFactory(chapter=0, name="other course")
    b = SectionFactory(
        chapter=one,
        name="1-b",
        orders=2,
        section_type=CourseSection.SectionType.DOCUMENT,
        section_link="docs/b.pdf",
        duration="",
    )
    a = SectionFactory(chapter=one, name="1-a", orders=1, free_trial=True, section_link="v/a.mp4")
    SectionFactory(chapter=one, name="hidden", orders=0, is_show=False)
    SectionFactory(chapter=one, name="deleted", orders=0, is_delete=True)

    response = get_tree(api_client, course.pk)

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": one.pk,
            "name": "one",
            "chapter": 1,
            "summary": "first",
            "coursesections": [
                {
                    "id": a.pk,
                    "name": "1-a",
                    "orders": 1,
                    "section_type": 2,
                    "section_link": local_link(a, None),  # local media: a signed link
                    "duration": "10:00",
                    "free_trail": True,
                },
                {
                    "id": b.pk,
                    "name": "1-b",
                    "orders": 2,
                    "section_type": 0,
                    "section_link": None,
                    "duration": "",
                    "free_trail": False,
                },
            ],
        },
        {"id": two.pk, "name": "two", "chapter": 2, "summary": "second", "coursesections": []},
    ]


def test_same_chapter_number_falls_back_to_orders_then_id(api_client):
    course = CourseFactory()
    late = ChapterFactory(course=course, chapter=1, orders=5, name="late")
    early = ChapterFactory(course=course, chapter=1, orders=0, name="early")
    twin = ChapterFactory(course=course, chapter=1, orders=5, name="twin")

    ids = [c["id"] for c in get_tree(api_client, course.pk).json()]

    assert ids == [early.pk, late.pk, twin.pk]


def test_course_without_chapters_is_an_empty_list(api_client):
    course = CourseFactory()

    response = get_tree(api_client, course.pk)

    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"course": ""},
        {"course": "abc"},
        {"course": "-1"},
        {"course": "1.5"},
        {"course": " 1"},
        {"course": "1e3"},
        {"course": "１"},  # full-width digit
        {"course": "9" * 19},
        {"course": "99999999999999999999999"},
    ],
)
def test_missing_or_invalid_course_is_400(api_client, query):
    CourseFactory()

    body = assert_error(api_client.get(CHAPTER_URL, query), 400)

    assert "course" in body["errors"]


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
    chapter = ChapterFactory(course=CourseFactory(**fields))
    SectionFactory(chapter=chapter)

    assert_error(get_tree(api_client, chapter.course_id), 404)


@pytest.mark.parametrize("course_id", ["0", "424242", "9" * 18])
def test_unknown_course_is_404(api_client, course_id):
    ChapterFactory()

    assert_error(get_tree(api_client, course_id), 404)
