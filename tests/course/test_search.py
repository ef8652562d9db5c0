from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.course.models import Course
from tests.factories import ChapterFactory, CourseFactory, SectionFactory

from .helpers import COURSE_FIELDS, SEARCH_URL, assert_error, names

pytestmark = pytest.mark.django_db


def search(client, text, **params):
    return client.get(SEARCH_URL, {"search": text, **params})


@pytest.fixture
def catalog(db):
    CourseFactory(
        name="Django实战",
        brief="Web backend with Python",
        course_type=Course.CourseType.ACTUAL,
        price=Decimal("299.00"),
        students=10,
    )
    CourseFactory(
        name="Python入门",
        brief="Basics",
        course_type=Course.CourseType.FREE,
        price=Decimal("0"),
        students=30,
    )
    CourseFactory(
        name="Flask轻课",
        brief="A small python web framework",
        course_type=Course.CourseType.LIGHT,
        discounted=True,  # 99.00, now 49.90
        students=20,
    )
    CourseFactory(name="Go微服务", brief="gRPC", price=Decimal("49.00"))
    CourseFactory(name="Python hidden", is_show=False)
    CourseFactory(name="Python deleted", is_delete=True)
    CourseFactory(name="Python offline", status=Course.Status.OFFLINE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Django", ["Django实战"]),
        ("django", ["Django实战"]),
        ("DJANGO", ["Django实战"]),
        ("python", ["Django实战", "Python入门", "Flask轻课"]),  # name or brief
        ("WEB", ["Django实战", "Flask轻课"]),
        ("web python", ["Django实战", "Flask轻课"]),
        ("  web   python  ", ["Django实战", "Flask轻课"]),
        ("web Python python", ["Django实战", "Flask轻课"]),
        ("web backend", ["Django实战"]),  # every word must match
        ("web nothing", []),
        ("实战", ["Django实战"]),
        ("ython入", ["Python入门"]),
        ("rust", []),
    ],
)
def test_words_match_name_or_brief(api_client, catalog, text, expected):
    assert names(search(api_client, text)) == expected


def test_result_page_is_shaped_like_the_list(api_client, catalog):
    chapter = ChapterFactory(course=Course.objects.get(name="Go微服务"), chapter=1)
    SectionFactory.create_batch(5, chapter=chapter)

    body = search(api_client, "gRPC").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    item = body["results"][0]
    assert set(item) == COURSE_FIELDS
    assert item["price"] == "49.00"
    assert len(item["section_list"]) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("49.9", ["Flask轻课"]),  # real (discounted) price
        ("49.90", ["Flask轻课"]),
        ("99", ["Flask轻课"]),  # list price
        ("99.00", ["Flask轻课"]),
        ("299", ["Django实战"]),
        ("49", ["Go微服务"]),
        ("0", ["Python入门"]),
        ("0.00", ["Python入门"]),
        ("49.901", []),  # no price has three decimals
        ("1e400", []),
        ("-49", []),
        ("NaN", []),
        ("sNaN", []),
        ("Infinity", []),
        ("49.9 web", ["Flask轻课"]),
        ("49.9 gRPC", []),
    ],
)
def test_numeric_word_also_matches_price_or_real_price(api_client, catalog, text, expected):
    assert names(search(api_client, text)) == expected


def test_numeric_word_still_matches_names(api_client):
    CourseFactory(name="Python 2024", price=Decimal("10"))
    CourseFactory(name="other", price=Decimal("2024"))

    assert names(search(api_client, "2024")) == ["Python 2024", "other"]


def test_expired_discount_price_does_not_match(api_client):
    CourseFactory(
        name="was cheap",
        discounted=True,
        discount_start=timezone.now() - timedelta(days=5),
        discount_end=timezone.now() - timedelta(days=1),
    )

    assert names(search(api_client, "49.9")) == []
    assert names(search(api_client, "99")) == ["was cheap"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"course_type": "light"}, ["Flask轻课"]),
        ({"course_type": "free"}, ["Python入门"]),
        ({"min_price": "1"}, ["Django实战", "Flask轻课"]),
        ({"max_price": "49.90"}, ["Python入门", "Flask轻课"]),
        ({"min_price": "49.90", "max_price": "49.90"}, ["Flask轻课"]),
        ({"ordering": "-price"}, ["Django实战", "Flask轻课", "Python入门"]),
        ({"ordering": "price"}, ["Python入门", "Flask轻课", "Django实战"]),
        ({"ordering": "-students"}, ["Python入门", "Flask轻课", "Django实战"]),
        ({"ordering": "students", "course_type": "actual"}, ["Django实战"]),
    ],
)
def test_combines_with_list_filters_and_ordering(api_client, catalog, params, expected):
    assert names(search(api_client, "python", **params)) == expected


def test_paginates(api_client):
    ids = [CourseFactory(name=f"Vue {i}").pk for i in range(7)]

    first = search(api_client, "vue", size=5).json()
    second = search(api_client, "vue", page_size=5, page=2).json()

    assert first["count"] == 7
    assert [r["id"] for r in first["results"] + second["results"]] == ids
    assert second["next"] is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("%", "100% 实战"),
        ("100%", "100% 实战"),
        ("_", "snake_case"),
        ("e_c", "snake_case"),
        ("O'Reilly", "O'Reilly books"),
        ('"quoted"', 'a "quoted" name'),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("\\", "back\\slash"),
        ("[a-z]", "regex [a-z]"),
    ],
)
def test_special_characters_are_literal(api_client, text, match):
    for name in ("100% 实战", "snake_case", "O'Reilly books", 'a "quoted" name', "plain"):
        CourseFactory(name=name)
    for name in ("<script>alert(1)</script>", "back\\slash", "regex [a-z]", "snakeXcase"):
        CourseFactory(name=name)

    assert names(search(api_client, text)) == [match]


@pytest.mark.parametrize(
    "text",
    [
        "' OR 1=1 --",
        "'; DROP TABLE luffy_course; --",
        '" OR ""="',
        "% _ %",
        "%%",
        "__",
        "1' UNION SELECT * FROM luffy_user --",
    ],
)
def test_injection_attempts_find_nothing(api_client, text):
    CourseFactory(name="Django", brief="anything")

    response = search(api_client, text)

    assert names(response) == []
    assert Course.objects.count() == 1


def test_search_spans_every_course_type_and_only_visible(api_client, catalog):
    found = search(api_client, "python", size=50).json()["results"]

    assert {c["course_type"] for c in found} == {"free", "actual", "light"}
    assert {c["name"] for c in found} == {"Django实战", "Python入门", "Flask轻课"}


@pytest.mark.parametrize("query", [{}, {"search": ""}, {"search": "   "}, {"search": "\t\n"}])
def test_empty_search_is_400(api_client, query):
    CourseFactory()

    body = assert_error(api_client.get(SEARCH_URL, query), 400)

    assert "search" in body["errors"]


def test_search_longer_than_100_characters_is_400(api_client):
    CourseFactory(name="a" * 101)

    body = assert_error(search(api_client, "a" * 101), 400)

    assert "search" in body["errors"]


def test_search_of_exactly_100_characters_is_fine(api_client):
    CourseFactory(name="a" * 100)

    assert len(names(search(api_client, "a" * 100))) == 1


def test_eight_words_all_have_to_match(api_client):
    CourseFactory(name="one two three four five six seven eight")

    assert len(names(search(api_client, "one two three four five six seven eight"))) == 1
    assert names(search(api_client, "one two three four five six seven nine")) == []


def test_more_than_eight_words_is_400_not_silently_truncated(api_client):
    # A ninth word that matches nothing must never be dropped and the course returned.
    CourseFactory(name="one two three four five six seven eight")

    body = assert_error(search(api_client, "one two three four five six seven eight zzz"), 400)

    assert "search" in body["errors"]


def test_repeated_words_count_once(api_client):
    CourseFactory(name="vue")

    assert names(search(api_client, " ".join(["vue"] * 12))) == ["vue"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"course_type": "bogus"}, 400),
        ({"min_price": "abc"}, 400),
        ({"max_price": "-1"}, 400),
        ({"min_price": "1e400"}, 400),
        ({"ordering": "bogus"}, 400),
        ({"page": "999"}, 404),
        ({"page": "abc"}, 404),
    ],
)
def test_bad_filter_values_are_4xx_envelopes(api_client, catalog, params, status):
    assert_error(search(api_client, "python", **params), status)


def test_candidate_ids_written_into_the_sql_select_what_bound_ids_select(catalog):
    from django.db.models import Q
    from django.db.models.sql.where import ExtraWhere

    from apps.course import selectors

    def found(queryset):
        return list(queryset.order_by("id").values_list("id", flat=True))

    every = found(Course.objects.all())
    shown = selectors.visible_courses()
    conditions = [Q(pk__in=ids) for ids in ([every[0]], every[::2], every, [every[-1] + 99])]
    conditions += [Q(pk__in=[]), ~Q(pk__in=every[:2]), Q(name__icontains="py")]  # as given
    for condition in conditions:
        narrowed = selectors._narrowed(shown, condition)
        assert found(narrowed) == found(shown.filter(condition)), condition
        assert narrowed.count() == shown.filter(condition).count()
    inlined = selectors._narrowed(shown, Q(pk__in=every)).query.where.children
    assert any(isinstance(child, ExtraWhere) for child in inlined)  # the fast path was taken
