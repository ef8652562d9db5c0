"""SQL per request is fixed, whatever the page size or the size of the catalog."""

import pytest
from django.db import connection

from apps.course.search.mroonga import PENDING, table_engine
from tests.factories import CategoryFactory, ChapterFactory, CourseFactory, SectionFactory

from .helpers import (
    CATEGORY_URL,
    CHAPTER_URL,
    LIST_URL,
    SEARCH_URL,
    course_with_sections,
    detail_url,
)

pytestmark = pytest.mark.django_db

# count + page of courses (teacher joined) + section previews of the whole page
LIST_QUERIES = 3
# Anonymous detail and chapters come from the course's document (apps/course/documents.py).
DOCUMENT_QUERIES = 1  # the document row, when it is ready
# document row + course (teacher and category joined) + its section previews + store
DETAIL_QUERIES = 4
# document row + course visible? + chapters + their sections + store
CHAPTER_QUERIES = 5


@pytest.fixture(autouse=True)
def no_stale_search_marks(db):
    """Marks of uncommitted writes left by earlier tests (Mroonga cannot roll back): while any
    is there the index decides nothing, and past a minute old a committed course write
    re-indexes those courses inside the queries counted here."""
    if connection.vendor != "mysql":
        return
    with connection.cursor() as cursor:
        if table_engine(cursor, PENDING) is not None:
            cursor.execute(f"DELETE FROM {PENDING}")  # noqa: S608 - constants


@pytest.fixture
def sixty_courses(db, settings):
    if settings.SEARCH_BACKEND == "mroonga":
        # Marks left by earlier tests' rolled-back saves (Mroonga does not roll back): a minute
        # old, a committed write would re-index their courses first (MroongaSearch.index).
        from django.db import connection

        from apps.course.search.mroonga import PENDING

        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PENDING}")  # noqa: S608 - constants
    return [course_with_sections(chapters=2, sections=3, name=f"Course {i}") for i in range(60)]


def run(client, url, params, assert_max, limit):
    with assert_max(limit) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response, len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("url", "params", "index_reads"),
    [
        (LIST_URL, {}, 0),
        (LIST_URL, {"ordering": "-price", "min_price": "1", "course_type": "actual"}, 0),
        # SEARCH_BACKEND=mroonga reads candidate ids (once for the words, once per numeric word)
        # and whether a write is uncommitted (here, in the test's transaction, there is one)
        (SEARCH_URL, {"search": "course"}, 2),
        (SEARCH_URL, {"search": "Course 99", "ordering": "-students"}, 3),
    ],
    ids=["list", "list-filtered", "search", "search-price-word"],
)
def test_page_queries_do_not_grow_with_page_size(
    api_client, sixty_courses, django_assert_max_num_queries, settings, url, params, index_reads
):
    expected = LIST_QUERIES + (index_reads if settings.SEARCH_BACKEND == "mroonga" else 0)
    small, small_count = run(
        api_client, url, {**params, "size": 5}, django_assert_max_num_queries, expected
    )
    big, big_count = run(
        api_client, url, {**params, "size": 50}, django_assert_max_num_queries, expected
    )

    assert len(small.json()["results"]) == 5
    assert len(big.json()["results"]) == 50
    assert all(len(c["section_list"]) == 4 for c in big.json()["results"])
    assert all(c["teacher"] is not None for c in big.json()["results"])
    assert small_count == big_count == expected


def test_page_size_parameter_alias_costs_the_same(
    api_client, sixty_courses, django_assert_max_num_queries
):
    response, count = run(
        api_client, LIST_URL, {"page_size": 50}, django_assert_max_num_queries, LIST_QUERIES
    )

    assert len(response.json()["results"]) == 50
    assert count == LIST_QUERIES


def test_empty_result_costs_only_the_count(api_client, db, django_assert_max_num_queries):
    # No course: Django skips the (empty) page query and no preview query is made.
    CourseFactory(is_show=False)

    response, count = run(api_client, LIST_URL, {}, django_assert_max_num_queries, 1)

    assert response.json()["results"] == []
    assert count == 1


@pytest.mark.parametrize("chapters", [1, 10])
def test_detail_queries_are_fixed(api_client, db, django_assert_max_num_queries, chapters):
    course = course_with_sections(chapters=chapters, sections=4)

    response, count = run(
        api_client, detail_url(course.pk), {}, django_assert_max_num_queries, DETAIL_QUERIES
    )

    assert response.json()["course_category"] is not None
    assert len(response.json()["section_list"]) == 4
    assert count == DETAIL_QUERIES
    again, count = run(
        api_client, detail_url(course.pk), {}, django_assert_max_num_queries, DOCUMENT_QUERIES
    )
    assert again.content == response.content
    assert count == DOCUMENT_QUERIES


@pytest.mark.parametrize(("chapters", "sections"), [(1, 1), (12, 8)])
def test_chapter_tree_queries_are_fixed(
    api_client, db, django_assert_max_num_queries, chapters, sections
):
    course = course_with_sections(chapters=chapters, sections=sections)

    response, count = run(
        api_client,
        CHAPTER_URL,
        {"course": course.pk},
        django_assert_max_num_queries,
        CHAPTER_QUERIES,
    )

    assert len(response.json()) == chapters
    assert all(len(c["coursesections"]) == sections for c in response.json())
    assert count == CHAPTER_QUERIES
    again, count = run(
        api_client, CHAPTER_URL, {"course": course.pk}, django_assert_max_num_queries, 1
    )
    assert again.content == response.content
    assert count == DOCUMENT_QUERIES


def test_category_is_one_query(api_client, db, django_assert_max_num_queries):
    CategoryFactory.create_batch(20)

    response, count = run(api_client, CATEGORY_URL, {}, django_assert_max_num_queries, 1)

    assert len(response.json()["result"]) == 20
    assert count == 1


def test_hidden_sections_do_not_change_query_count(api_client, db, django_assert_max_num_queries):
    course = CourseFactory()
    chapter = ChapterFactory(course=course, chapter=1)
    SectionFactory.create_batch(3, chapter=chapter, is_show=False)
    SectionFactory.create_batch(2, chapter=chapter)

    response, count = run(api_client, LIST_URL, {}, django_assert_max_num_queries, LIST_QUERIES)

    assert len(response.json()["results"][0]["section_list"]) == 2
    assert count == LIST_QUERIES
