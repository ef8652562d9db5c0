"""Small assertions and builders shared by the catalog tests."""

from __future__ import annotations

from django.db import connection

from tests.factories import ChapterFactory, CourseFactory, SectionFactory

CATEGORY_URL = "/api/v1/course/category/"
LIST_URL = "/api/v1/course/list/"
SEARCH_URL = "/api/v1/course/search/"
CHAPTER_URL = "/api/v1/course/chapter/"

COURSE_FIELDS = {
    "id",
    "name",
    "course_img",
    "course_type",
    "course_type_name",
    "brief",
    "level_name",
    "status_name",
    "period",
    "students",
    "sections",
    "pub_sections",
    "price",
    "discount_type",
    "real_price",
    "teacher",
    "section_list",
    "owned",
}
DETAIL_FIELDS = COURSE_FIELDS | {"pub_date", "course_category"}
TEACHER_FIELDS = {"id", "name", "role", "role_name", "title", "signature", "image", "brief"}
PREVIEW_FIELDS = {"id", "name", "section_link", "duration", "free_trail"}


def detail_url(pk) -> str:
    return f"{LIST_URL}{pk}/"


def assert_error(response, status: int) -> dict:
    """The error envelope: the HTTP status repeated as `code`, a readable `msg`, JSON only."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == status
    assert isinstance(body["msg"], str)
    assert body["msg"]
    assert set(body) <= {"code", "msg", "errors"}
    return body


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [course["name"] for course in response.json()["results"]]


def course_with_sections(chapters: int = 2, sections: int = 3, **course_fields):
    """A course with `chapters` chapters (numbered 1..n) of `sections` sections each."""
    course = CourseFactory(**course_fields)
    for number in range(1, chapters + 1):
        chapter = ChapterFactory(course=course, chapter=number)
        for order in range(1, sections + 1):
            SectionFactory(chapter=chapter, orders=order, name=f"{number}.{order}")
    return course


def mroonga_sql_count(words: list[str]) -> int:
    """Mroonga's own count of `words` as phrases: MATCH on the bigram index, the SQL path that
    Groonga's select (with or without the word index) must agree with (MariaDB only)."""
    from apps.course.search.accelerators import groonga
    from apps.course.search.mroonga import TABLE

    query = " ".join(f"+{groonga.phrase(word)}" for word in words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {TABLE} WHERE MATCH(body) AGAINST(%s IN BOOLEAN MODE)",  # noqa: S608
            [query],
        )
        return int(cursor.fetchone()[0])
