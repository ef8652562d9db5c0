"""The indexed search backend finds exactly what the LIKE scan finds (issue 12, target 5).

Seeded random catalogs (Latin words in every case, accents, full-width letters, symbols, Chinese
words without spaces, numbers, prices with running and finished discounts, every course type and
state) and random queries (pieces of the catalog's own text, vocabulary words, prices, one
character, two words, words that match nothing) are searched through both backends; the ids and
the API's pages must be identical. The Mroonga backend needs MariaDB with the engine loaded
(`make test-mariadb`); the LIKE backend is what SQLite runs everywhere else.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import TestCase, override_settings
from django.utils import timezone

from apps.course import selectors
from apps.course.models import Course
from apps.course.search import search_backend
from apps.course.search.mroonga import PENDING, TABLE, engine_available
from tests.factories import CategoryFactory, CourseFactory, TeacherFactory

from .helpers import SEARCH_URL

pytestmark = [pytest.mark.django_db, pytest.mark.mysql_only]

LATIN = (
    "Python", "python", "PYTHON", "Django", "vue", "Go", "Linux", "MySQL", "redis", "Café",
    "café", "CAFE", "naïve", "Straße", "strasse", "ＡＢＣ", "abc", "Ａbc", "c++", "C#", ".NET",
    "node.js", "k8s", "x86_64", "100%", "a_b", "e\u0301te\u0301", "so\u00adft", "ﬁsh", "Ⅻ",
    "aaaa", "aa", "abab", "ab.cd", "a\u200bb", "ab-cd", "Ｐｙｔｈｏｎ", "pythonpython", "Go1",
    "résumé",
)  # fmt: skip
CHINESE = (
    "数据", "数据分析", "机器学习", "爬虫", "前端", "运维", "测试", "算法", "入门", "进阶", "实战",
    "全栈", "项目", "课程", "学习", "零基础", "第1期", "（进阶）", "《算法》", "中文ＡＢＣ",
    "数数据据", "学学", "Python实战", "算法。数据",
)  # fmt: skip
NUMBERS = ("99", "199", "9.90", "2024", "0", "49.9", "3", "12")
SEPARATORS = ("", "", " ", "，", "、", "\n", "-", "/", "。")
PRICES = tuple(Decimal(p) for p in ("0", "9.90", "19.90", "49.90", "99.00", "199.00", "12.00"))
NO_MATCH = ("zzqx", "量子纠缠", "%", "_", "++", "\\", "'", '"', "*", "数据 zzqx", "+Python")
# Words the index decides alone (letters, digits, CJK; two or more): repeated bigrams, words
# across a symbol or the name/brief boundary, which a phrase of bigrams must not find.
EXACT_WORDS = (
    "aaa", "aaaa", "aaaaa", "abab", "bab", "bc", "bcd", "数数", "数据据", "据据", "学学学",
    "pythonpython", "onpy", "thon", "实战", "n实", "k8", "x86", "go1", "cafe", "resume", "soft",
    "fish", "ete", "strasse", "ss", "ab", "ft",
)  # fmt: skip


def _text(rng: random.Random, words: int) -> str:
    vocab = rng.choice((LATIN, CHINESE, LATIN + CHINESE + NUMBERS))
    return "".join(rng.choice(vocab) + rng.choice(SEPARATORS) for _ in range(words)).strip()


def build_catalog(rng: random.Random, size: int, *, committed: bool = True) -> list[Course]:
    """`committed`: run the index's on-commit work (as a real commit does); else every entry
    stays marked uncommitted and the LIKE predicate decides every word."""
    with TestCase.captureOnCommitCallbacks(execute=committed):
        return _build_catalog(rng, size)


def _build_catalog(rng: random.Random, size: int) -> list[Course]:
    category, teacher = CategoryFactory(), TeacherFactory()
    now = timezone.now()
    courses = []
    for _ in range(size):
        discount: dict = {}
        if rng.random() < 0.3:
            # Running, finished, or not yet started.
            start, end = rng.choice(((-2, 1), (-2, -1), (1, 2)))
            discount = {
                "discount_price": rng.choice(PRICES),
                "discount_start": now + timedelta(days=start),
                "discount_end": now + timedelta(days=end),
            }
        courses.append(
            CourseFactory(
                name=_text(rng, rng.randint(1, 4))[:128],
                brief=_text(rng, rng.randint(0, 10)),
                course_type=rng.choice(Course.CourseType.values),
                status=rng.choice(Course.Status.values),
                is_show=rng.random() < 0.9,
                is_delete=rng.random() < 0.05,
                price=rng.choice(PRICES),
                orders=rng.randrange(4),  # ties: the id decides
                students=rng.randrange(3),
                course_category=category,
                teacher=teacher,
                **discount,
            )
        )
    return courses


def random_query(rng: random.Random, courses: list[Course]) -> str:
    kind = rng.randrange(9)
    if kind == 7:  # a word the index decides alone
        return rng.choice(EXACT_WORDS)
    if kind == 8:  # across the name/brief boundary (the index has a newline there)
        course = rng.choice(courses)
        return f"{course.name[-rng.randint(1, 3) :]}{course.brief[: rng.randint(1, 3)]}" or "x"
    if kind <= 1:  # a piece of a course's own text, in any case
        text = rng.choice(courses).__dict__[rng.choice(("name", "brief"))] or "x"
        start = rng.randrange(len(text))
        piece = text[start : start + rng.randint(1, 6)]
        return rng.choice((piece, piece.upper(), piece.lower(), piece.swapcase()))
    if kind == 2:  # one character of the catalog
        return rng.choice(rng.choice(courses).name or "x")
    if kind == 3:  # vocabulary words, one to three
        return " ".join(rng.choice(LATIN + CHINESE + NUMBERS) for _ in range(rng.randint(1, 3)))
    if kind == 4:  # a price, as shoppers type it
        price = rng.choice(PRICES)
        return rng.choice((str(price), f"{price:.1f}", str(int(price)), f"{price} python"))
    if kind == 5:
        return rng.choice(NO_MATCH)
    return f"{rng.choice(CHINESE)} {rng.choice(LATIN)}"


def ids_found(backend: str, words: list[str]) -> list[int]:
    with override_settings(SEARCH_BACKEND=backend):
        found = selectors.search_courses(selectors.visible_courses(), words)
        return list(found.order_by("id").values_list("id", flat=True))


def candidate_ids(words: list[str]) -> set[int] | None:
    condition = search_backend().matching(words)
    if condition is None:
        return None
    return set(Course.objects.filter(condition).values_list("id", flat=True))


@pytest.fixture
def mroonga(settings):
    with connection.cursor() as cursor:
        if not engine_available(cursor):
            if settings.SEARCH_BACKEND == "mroonga":
                pytest.fail("TEST_SEARCH_BACKEND=mroonga but the server has no Mroonga engine")
            pytest.skip("this MariaDB has no Mroonga engine (mariadb-plugin-mroonga)")
    settings.SEARCH_BACKEND = "mroonga"
    # Entries left by other tests' rolled-back transactions (Mroonga does not roll back).
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - constants
        cursor.execute(f"DELETE FROM {PENDING}")  # noqa: S608 - constants


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "uncommitted"])
@pytest.mark.parametrize("seed", range(6))
def test_the_mroonga_backend_finds_exactly_what_the_like_scan_finds(
    mroonga, count_path, seed, committed
):
    rng = random.Random(f"search-{seed}")
    courses = build_catalog(rng, 70, committed=committed)
    narrowed = 0
    for _ in range(90):
        text = random_query(rng, courses)
        words = selectors.search_words(text)[: selectors.MAX_SEARCH_WORDS]
        if not words:
            continue
        assert ids_found("mroonga", words) == ids_found("like", words), repr(text)
        candidates = candidate_ids(words)
        if candidates is not None and len(candidates) < len(courses):
            narrowed += 1
    # The index is really asked and really narrows (a backend answering None would pass above).
    assert narrowed >= 20


@pytest.mark.parametrize(
    "params",
    [
        {"search": "Python"},
        {"search": "数据", "ordering": "-price"},
        {"search": "a", "course_type": "light", "page_size": 2},
        {"search": "99", "ordering": "students"},
        {"search": "c 学", "min_price": "10", "max_price": "100", "page_size": 5},
        {"search": "量子纠缠"},
    ],
)
def test_search_pages_are_the_same_through_both_backends(mroonga, count_path, client, params):
    build_catalog(random.Random("pages"), 60)
    answers = {}
    for backend in ("like", "mroonga"):
        with override_settings(SEARCH_BACKEND=backend):
            response = client.get(SEARCH_URL, params)
        answers[backend] = (response.status_code, response.json())
    assert answers["mroonga"] == answers["like"]
    assert answers["like"][0] == 200, answers["like"]


def test_a_word_matching_more_courses_than_the_cap_is_left_to_the_scan(mroonga, monkeypatch):
    from apps.course.search import table

    build_catalog(random.Random("cap"), 40)
    monkeypatch.setattr(table, "MAX_CANDIDATES", 3)
    common = max(CHINESE, key=lambda w: len(ids_found("like", [w])))
    assert len(ids_found("like", [common])) > 3
    assert search_backend().matching([common]) is None  # too many: no narrowing
    assert ids_found("mroonga", [common]) == ids_found("like", [common])
    rare = "量子纠缠"
    assert search_backend().matching([rare]) is not None  # few (none): narrowed
    assert ids_found("mroonga", [f"{common} {rare}"]) == []


# Searches of one number (text or price, counted and paged by the index) and of two words
# where one is rare (read first, the other tested on its matches).
NUMBER_WORDS = ("99", "199", "9.90", "9.9", "19.9", "49.90", "12", "0", "3", "2024", "12.00")
TWO_WORDS = (
    "学习 python", "python 学习", "pythonpython 数据", "数数 abab", "aaa aaaa", "k8 x86",
    "python实战 go1", "k8s 数据", "ab 学学", "aa bc", "thon 实战",
)  # fmt: skip


def random_page_params(rng: random.Random) -> dict[str, str]:
    words = (*EXACT_WORDS, *NUMBER_WORDS, *TWO_WORDS, "Python", "数据", "a")
    params = {"search": rng.choice(words)}
    if rng.random() < 0.6:
        params["ordering"] = rng.choice(
            ("orders", "-orders", "price", "-price", "students", "-students", "", "bogus")
        )
    if rng.random() < 0.3:
        params["course_type"] = rng.choice(Course.CourseType.values)
    if rng.random() < 0.2:
        params["min_price"] = rng.choice(("0", "10", "50"))
    if rng.random() < 0.5:
        params[rng.choice(("page_size", "size"))] = str(rng.choice((1, 2, 3, 5, 10)))
    if rng.random() < 0.5:
        params["page"] = str(rng.randint(1, 4))
    return params


@pytest.mark.parametrize(
    ("scan_rows", "scan_bound", "few"),
    [(0, 0, 0), (2_000, 8_000, 0), (2_000, 12, 0), (0, 0, 2_000)],
    ids=["sorted-by-mroonga", "ordered-scan", "ordered-scan-gives-up", "rare-word-first"],
)
@pytest.mark.parametrize("seed", range(3))
def test_whole_search_pages_are_the_same_through_both_backends(
    mroonga, count_path, client, monkeypatch, seed, scan_rows, scan_bound, few
):
    from apps.course.search import accelerators
    from apps.course.search.accelerators import groonga

    # A small catalog: with 2,000 the first pages of any word are read by walking the courses
    # in order (12 rows examined at most: often given up, then sorted); with 0, always sorted
    # by the index. With FEW 2,000 the longest of two words is always rare enough: read first,
    # the matches counted and paged from that one read; with 0 never (a word with no match
    # aside).
    monkeypatch.setattr(accelerators, "SCAN_ROWS", scan_rows)
    monkeypatch.setattr(accelerators, "SCAN_BOUND", scan_bound)
    monkeypatch.setattr(accelerators, "FEW", few)
    scans: list[bool] = []  # per ordered scan: a short page (given up, or the last page)?
    scan = accelerators._ordered_scan

    def counted_scan(words, *, offset, limit):
        ids = scan(words, offset=offset, limit=limit)
        scans.append(len(ids) < limit)
        return ids

    monkeypatch.setattr(accelerators, "_ordered_scan", counted_scan)
    reused: list[int] = []  # pages served from the matches the count read
    page = accelerators.page

    def counted_page(words, **kwargs):
        if kwargs["reads"].get("few") is not None:
            reused.append(len(kwargs["reads"]["few"]))
        return page(words, **kwargs)

    monkeypatch.setattr(accelerators, "page", counted_page)
    selects: list[int] = []  # Groonga's selects that answered (their count)
    select = groonga.select

    def counted_select(*args, **kwargs):
        found = select(*args, **kwargs)
        if found is not None:
            selects.append(found.count)
        return found

    monkeypatch.setattr(groonga, "select", counted_select)
    rng = random.Random(f"pages-{seed}")
    build_catalog(rng, 80)
    for _ in range(60):
        params = random_page_params(rng)
        answers = {}
        for backend in ("like", "mroonga"):
            with override_settings(SEARCH_BACKEND=backend):
                response = client.get(SEARCH_URL, params)
            answers[backend] = (response.status_code, response.json())
        assert answers["mroonga"] == answers["like"], params
    # Groonga's select answered exactly when the UDF is there.
    assert bool(selects) == (count_path == "groonga"), selects
    # The ordered scan ran (or not at all with 0), and returned short pages with a tiny bound;
    # with Groonga, only for a search already counted (its first count reads the first pages).
    if count_path == "off":
        assert scans == [] and reused == [], (scans, reused)  # accelerators off: SQL only
    elif few:
        assert any(reused), reused  # pages of matching courses came from the count's read
    elif scan_rows == 0:
        assert scans == []
    elif count_path == "sql":
        assert (False in scans) and (scan_bound > 12 or True in scans), scans


def mroonga_status() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW STATUS LIKE 'Mroonga_%'")
        return {name: int(value) for name, value in cursor.fetchall()}


def test_a_search_the_index_decides_is_counted_and_paged_by_mroonga_without_reading_rows(
    mroonga, settings, client
):
    settings.SEARCH_ACCELERATORS = False  # the core path: Mroonga's SQL alone
    build_catalog(random.Random("fast"), 40)
    before = mroonga_status()
    response = client.get(SEARCH_URL, {"search": "学习 python", "ordering": "-orders"})
    after = mroonga_status()
    assert response.status_code == 200
    # COUNT(*) from the posting lists, ORDER BY ... LIMIT inside Groonga (mroonga optimizations).
    assert after["Mroonga_count_skip"] == before["Mroonga_count_skip"] + 1
    assert after["Mroonga_fast_order_limit"] == before["Mroonga_fast_order_limit"] + 1


def catch_up_word_lexicon() -> None:
    """This process's mirror of the word lexicon brought up to date with the test's catalog
    (the first search after a write bringing new words reads the new keys first: one more
    statement, not counted here)."""
    from apps.course.search.accelerators import lexicon

    lexicon.plan(TABLE, ["python"], refresh=True)


def test_two_words_one_rare_are_answered_from_one_read_of_the_rare_one(mroonga, count_path, client):
    build_catalog(random.Random("rare"), 40)
    with TestCase.captureOnCommitCallbacks(execute=True):
        for name, brief in (("Python学习", ""), ("学习", "python"), ("python", "学"), ("学习", "")):
            CourseFactory(name=name, brief=brief, is_show=True, is_delete=False, status=0)
    catch_up_word_lexicon()
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(SEARCH_URL, {"search": "学习 python"})
    with override_settings(SEARCH_BACKEND="like"):
        like = client.get(SEARCH_URL, {"search": "学习 python"})
    assert response.json() == like.json()
    assert response.json()["count"] == 2
    on_index = [
        sql for sql in statements if f"FROM {TABLE} " in sql or "mroonga_command('select'" in sql
    ]
    if count_path == "off":  # Mroonga's SQL: COUNT(*), then ORDER BY ... LIMIT
        assert len(on_index) == 2, on_index
        return
    # One read of python's matches (the longer word), none of 学习's (tested with LIKE on those
    # rows), and the page came from the same read: no COUNT(*), no second MATCH.
    assert len(on_index) == 1, on_index


def test_an_uncommitted_edit_makes_the_predicate_decide_again(mroonga, client):
    (course,) = build_catalog(random.Random("edit"), 1)
    with override_settings(SEARCH_BACKEND="mroonga"):
        assert search_backend().decides(["pythonic"]) == {"pythonic"}
    with pytest.raises(RuntimeError), transaction.atomic():
        course.name, course.brief = "Pythonic", ""
        course.save()
        raise RuntimeError("the edit fails after the save")
    # The entry still holds "Pythonic" (Mroonga cannot roll back) but marks it uncommitted.
    assert search_backend().decides(["pythonic"]) == frozenset()
    assert client.get(SEARCH_URL, {"search": "pythonic"}).json()["count"] == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        course.save()  # a committed save rewrites the entry and clears the mark
    assert search_backend().decides(["pythonic"]) == {"pythonic"}
    assert client.get(SEARCH_URL, {"search": "pythonic"}).json()["count"] == 0


def test_a_mark_left_by_a_rollback_is_repaired_by_the_next_committed_write(mroonga, client):
    from apps.course.search import mroonga as backend

    course, other = build_catalog(random.Random("stale"), 2)
    with pytest.raises(RuntimeError), transaction.atomic():
        course.name, course.brief = "Pythonic", ""
        course.save()
        raise RuntimeError("the edit fails after the save")
    assert search_backend().decides(["pythonic"]) == frozenset()
    with connection.cursor() as cursor:  # the rollback was over a minute ago
        cursor.execute(
            f"UPDATE {PENDING} SET marked = marked - %s",  # noqa: S608 - constants
            [backend.STALE_MARK_SECONDS + 1],
        )
    # Searches repair nothing: the predicate decides, and finds nothing.
    assert client.get(SEARCH_URL, {"search": "pythonic"}).json()["count"] == 0
    assert search_backend().decides(["pythonic"]) == frozenset()
    with TestCase.captureOnCommitCallbacks(execute=True):
        other.save()  # any course's committed write re-indexes the stale mark's course
    assert search_backend().decides(["pythonic"]) == {"pythonic"}
    assert client.get(SEARCH_URL, {"search": "pythonic"}).json()["count"] == 0


@pytest.mark.parametrize("seed", range(3))
def test_a_number_is_counted_and_paged_exactly_around_the_discount_window(
    mroonga, client, monkeypatch, seed
):
    """A price word matches `price`, or `discount_price` while the discount runs (start <= now <
    end): discounts before, at and after their window, the clock pinned to the boundaries."""
    rng = random.Random(f"window-{seed}")
    build_catalog(rng, 50)
    now = timezone.now().replace(microsecond=0)
    edges = (
        (now, now + timedelta(days=1)),  # starts now: running
        (now - timedelta(days=1), now),  # ends now: over
        (now + timedelta(seconds=1), now + timedelta(days=1)),  # starts in a second
        (now - timedelta(days=1), now + timedelta(seconds=1)),  # ends in a second
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(30):
            start, end = rng.choice(edges)
            CourseFactory(
                name=rng.choice(("Python", "第199期", "课程", "9.90元")),
                brief=rng.choice(("", "199", "价格 99", "12.00")),
                price=rng.choice(PRICES),
                discount_price=rng.choice(PRICES),
                discount_start=start,
                discount_end=end,
                orders=rng.randrange(4),
                is_show=True,
                is_delete=False,
                status=0,
            )
    monkeypatch.setattr(timezone, "now", lambda: now)
    for search in ("199", "99", "9.90", "9.9", "12", "12.00", "0", "49.90", "19.9", "99.00"):
        for params in (
            {"search": search},
            {"search": search, "ordering": "-orders"},
            {"search": search, "page": "2", "page_size": "3"},
            {"search": search, "course_type": "actual"},
        ):
            answers = {}
            for backend in ("like", "mroonga"):
                with override_settings(SEARCH_BACKEND=backend):
                    response = client.get(SEARCH_URL, params)
                answers[backend] = (response.status_code, response.json())
            assert answers["mroonga"] == answers["like"], params
    found = client.get(SEARCH_URL, {"search": "9.90"}).json()["count"]
    assert found > 0  # the prices were really matched


def test_a_number_is_counted_and_paged_without_scanning_the_catalog(mroonga, client):
    build_catalog(random.Random("number-scan"), 40)
    with TestCase.captureOnCommitCallbacks(execute=True):
        CourseFactory(name="限时 9.90 元", is_show=True, is_delete=False, status=0)
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(SEARCH_URL, {"search": "9.90"})
    with override_settings(SEARCH_BACKEND="like"):
        assert client.get(SEARCH_URL, {"search": "9.90"}).json() == response.json()
    assert response.json()["count"] > 0
    # Every read of luffy_course is by price (its indexes) or by id, never LIKE over the catalog.
    reads = [sql.replace("`", "") for sql in statements if "LIKE" in sql]
    reads = [sql for sql in reads if "FROM luffy_course " in sql]
    assert reads and all(re.search(r"WHERE (luffy_course\.)?id IN \(", sql) for sql in reads)
    assert any("`luffy_course`.`price` = " in sql for sql in statements), statements
