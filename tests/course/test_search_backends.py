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
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from apps.course import selectors
from apps.course.models import Course
from apps.course.search import search_backend
from apps.course.search.mroonga import engine_available
from tests.factories import CategoryFactory, CourseFactory, TeacherFactory

from .helpers import SEARCH_URL

pytestmark = [pytest.mark.django_db, pytest.mark.mysql_only]

LATIN = (
    "Python", "python", "PYTHON", "Django", "vue", "Go", "Linux", "MySQL", "redis", "Café",
    "café", "CAFE", "naïve", "Straße", "strasse", "ＡＢＣ", "abc", "Ａbc", "c++", "C#", ".NET",
    "node.js", "k8s", "x86_64", "100%", "a_b", "e\u0301te\u0301", "so\u00adft", "ﬁsh", "Ⅻ",
)  # fmt: skip
CHINESE = (
    "数据", "数据分析", "机器学习", "爬虫", "前端", "运维", "测试", "算法", "入门", "进阶", "实战",
    "全栈", "项目", "课程", "学习", "零基础", "第1期", "（进阶）", "《算法》", "中文ＡＢＣ",
)  # fmt: skip
NUMBERS = ("99", "199", "9.90", "2024", "0", "49.9", "3", "12")
SEPARATORS = ("", "", " ", "，", "、", "\n", "-", "/", "。")
PRICES = tuple(Decimal(p) for p in ("0", "9.90", "19.90", "49.90", "99.00", "199.00", "12.00"))
NO_MATCH = ("zzqx", "量子纠缠", "%", "_", "++", "\\", "'", '"', "*", "数据 zzqx", "+Python")


def _text(rng: random.Random, words: int) -> str:
    vocab = rng.choice((LATIN, CHINESE, LATIN + CHINESE + NUMBERS))
    return "".join(rng.choice(vocab) + rng.choice(SEPARATORS) for _ in range(words)).strip()


def build_catalog(rng: random.Random, size: int) -> list[Course]:
    category, teacher = CategoryFactory(), TeacherFactory()
    now = timezone.now()
    courses = []
    for _ in range(size):
        discount: dict = {}
        if rng.random() < 0.3:
            running = rng.random() < 0.5
            discount = {
                "discount_price": rng.choice(PRICES),
                "discount_start": now - timedelta(days=2),
                "discount_end": now + (timedelta(days=1) if running else -timedelta(days=1)),
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
                course_category=category,
                teacher=teacher,
                **discount,
            )
        )
    return courses


def random_query(rng: random.Random, courses: list[Course]) -> str:
    kind = rng.randrange(7)
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
        found = selectors.search_courses(Course.objects.with_current_price(), words)
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


@pytest.mark.parametrize("seed", range(6))
def test_the_mroonga_backend_finds_exactly_what_the_like_scan_finds(mroonga, seed):
    rng = random.Random(f"search-{seed}")
    courses = build_catalog(rng, 70)
    narrowed = 0
    for _ in range(70):
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
def test_search_pages_are_the_same_through_both_backends(mroonga, client, params):
    build_catalog(random.Random("pages"), 60)
    answers = {}
    for backend in ("like", "mroonga"):
        with override_settings(SEARCH_BACKEND=backend):
            response = client.get(SEARCH_URL, params)
        answers[backend] = (response.status_code, response.json())
    assert answers["mroonga"] == answers["like"]
    assert answers["like"][0] == 200, answers["like"]


def test_a_word_matching_more_courses_than_the_cap_is_left_to_the_scan(mroonga, monkeypatch):
    from apps.course.search import mroonga as backend

    build_catalog(random.Random("cap"), 40)
    monkeypatch.setattr(backend, "MAX_CANDIDATES", 5)
    common = max(CHINESE, key=lambda w: len(ids_found("like", [w])))
    assert len(ids_found("like", [common])) > 5
    assert search_backend().matching([common]) is None  # too many: no narrowing
    assert ids_found("mroonga", [common]) == ids_found("like", [common])
    rare = "量子纠缠"
    assert search_backend().matching([rare]) is not None  # few (none): narrowed
    assert ids_found("mroonga", [f"{common} {rare}"]) == []
