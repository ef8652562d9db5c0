"""The count cache of index-only searches stays exact: every course write that can change a
count ends it, payments do not, a count taken while a write is pending is never kept, and the
table stays bounded (apps/course/search/counts.py)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.course import selectors
from apps.course.models import Course, SearchCount
from apps.course.search import counts
from apps.order import services
from tests.factories import CourseFactory, UserFactory

from .helpers import SEARCH_URL
from .test_documents import alipay, alipay_keys, pay  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)  # generations move on commit

WORD = "pythonic"


def generation() -> int | None:
    row = SearchCount.objects.filter(digest=counts.GENERATION)
    return row.values_list("generation", flat=True).first()


def entries() -> int:
    return SearchCount.objects.exclude(digest=counts.GENERATION).count()


def rename(course, name=f"{WORD} 改名"):
    course.name = name
    course.save()


def rebrief(course):
    course.brief = f"about {WORD}"
    course.save()


def hide(course):
    course.is_show = False
    course.save()


def mark_deleted(course):
    course.is_delete = True
    course.save()


def take_offline(course):
    course.status = Course.Status.OFFLINE
    course.save()


def reprice(course):
    course.price = Decimal("12.34")
    course.save()


def discount(course):
    now = timezone.now()
    course.discount_price = Decimal("1.00")
    course.discount_start, course.discount_end = now - timedelta(days=1), now + timedelta(days=1)
    course.save()


def delete(course):
    course.delete()


def create(course):
    CourseFactory(name=f"new {WORD}")


EDITS = [rename, rebrief, hide, mark_deleted, take_offline, reprice, discount, delete, create]


@pytest.mark.parametrize("edit", EDITS)
def test_every_course_write_that_can_change_a_count_moves_the_search_generation(edit):
    course = CourseFactory(name=f"{WORD} course", price=Decimal("99.00"))
    before = generation()

    edit(course)

    assert before is not None and generation() == before + 1


def test_a_write_that_rolls_back_leaves_the_generation_where_it_was():
    course = CourseFactory(name=f"{WORD} course")
    before = generation()
    with pytest.raises(RuntimeError), transaction.atomic():
        rename(course, "another name")
        raise RuntimeError("the edit fails after the save")
    assert generation() == before


def test_payments_and_staff_grants_leave_the_generation_alone(alipay):  # noqa: F811
    course = CourseFactory(name=f"{WORD} course", students=3)
    before = generation()

    pay(course, alipay)
    services.grant_course(
        UserFactory(), course=course, staff=UserFactory(is_staff=True), reason="补偿"
    )

    assert Course.objects.get(pk=course.pk).students == 5
    assert generation() == before


def test_the_digest_folds_ascii_case_and_drops_order_and_repeats_only():
    assert counts.digest(["Python", "实战"]) == counts.digest(["实战", "python", "PYTHON"])
    assert counts.digest(["python"]) != counts.digest(["python", "实战"])
    assert counts.digest(["ÉTÉ"]) != counts.digest(["été"])  # not folded: never merged
    assert len(counts.digest(["x"])) == 64


def test_prune_drops_older_generations_then_the_longest_stored_beyond_the_bound(monkeypatch):
    counts.bump()
    current = generation()
    for number in range(6):
        SearchCount.objects.create(
            digest=f"{number:064d}", generation=current, found=number, stored_at=number
        )
    SearchCount.objects.create(digest="f" * 64, generation=current - 1, found=1, stored_at=99)
    monkeypatch.setattr(counts, "MAX_ENTRIES", 4)

    assert counts.prune() == 3
    kept = SearchCount.objects.exclude(digest=counts.GENERATION)
    assert sorted(kept.values_list("found", flat=True)) == [2, 3, 4, 5]
    assert generation() == current  # the generation row is never pruned


def test_a_process_prunes_after_every_prune_every_stores(monkeypatch):
    monkeypatch.setattr(counts, "PRUNE_EVERY", 3)
    monkeypatch.setattr(counts, "_stores", 0)
    counts.bump()
    old = generation()
    counts._store("a" * 64, old, 1)
    counts.bump()
    counts._store("b" * 64, generation(), 2)
    assert entries() == 2
    counts._store("c" * 64, generation(), 3)  # the third store prunes: "a" is of the old one
    assert set(SearchCount.objects.values_list("found", flat=True)) == {0, 2, 3}


def test_a_generation_row_lost_and_made_again_never_revives_an_old_entry():
    counts.bump()
    counts._store("a" * 64, generation(), 1)
    SearchCount.objects.filter(digest=counts.GENERATION).delete()

    counts._start()

    assert generation() > SearchCount.objects.get(digest="a" * 64).generation


# --- Through the search, on Mroonga (the index answers alone) --------------------------------


def index_counts(text: str = WORD) -> tuple[int, int]:
    """The search's count, and how many times the index counted for it (Mroonga's SQL
    COUNT(*) or a read of a rare word's matches, or Groonga's select; not Mroonga's SQL page,
    which the accelerators-off path reads after a cached count too)."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        found = searched(text)
    page = "SELECT id FROM luffy_course_search WHERE MATCH(body)"
    return found, sum(
        ("MATCH(body)" in sql and not sql.startswith(page)) or "mroonga_command('select'" in sql
        for sql in statements
    )


def searched(text: str = WORD) -> int:
    response = APIClient().get(SEARCH_URL, {"search": text})
    assert response.status_code == 200, response.content
    return response.json()["count"]


def scanned(text: str = WORD) -> int:
    """The count the LIKE predicate gives (the truth the cache must agree with)."""
    return selectors.search_courses(selectors.visible_courses(), text.split()).count()


def catalog() -> list[Course]:
    courses = [CourseFactory(name=f"{WORD} {n}", price=Decimal("99.00")) for n in range(5)]
    courses += [CourseFactory(name=f"other {n}", brief="nothing") for n in range(3)]
    return courses


def cached_search() -> int:
    """Search until the count is cached, then once more: that one must not count."""
    searched()
    found, counted = index_counts()
    assert counted == 0, "the count was not served from the cache"
    return found


@pytest.mark.parametrize("edit", EDITS)
def test_each_change_shows_in_the_next_count(mroonga, count_path, edit):
    courses = catalog()
    assert cached_search() == scanned() == 5
    target = courses[0] if edit is not rename else courses[-1]  # one gains the word

    edit(target)

    found, counted = index_counts()
    assert found == scanned()
    assert counted > 0  # the index counted again
    assert cached_search() == scanned()


def test_a_payment_keeps_the_cached_count_and_it_stays_exact(mroonga, alipay):  # noqa: F811
    courses = catalog()
    found = cached_search()

    pay(courses[0], alipay)

    again, counted = index_counts()
    assert again == found == scanned()
    assert counted == 0  # served from the cache: the payment ended nothing


def in_another_connection(function):
    """Call `function` in a thread, so on its own connection (as another worker would)."""
    result: list = []

    def run():
        try:
            result.append(function())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0]


def test_a_count_taken_while_another_write_is_pending_is_never_kept(mroonga, count_path):
    courses = catalog()  # the generation row exists (course saves bump it), no count yet
    assert generation() is not None and entries() == 0
    with pytest.raises(RuntimeError), transaction.atomic():
        rename(courses[-1])  # its entry holds the old and the new text until the end
        # Another worker counts now: the index holds the pending text, the generation is the
        # old one (the bump is not committed)...
        assert in_another_connection(lambda: counts.count([WORD])) == 6
        raise RuntimeError("the edit fails after the save")
    # ...and the rollback keeps the old generation: had that 6 been kept, it would be served.
    assert entries() == 0
    assert searched() == scanned() == 5


def test_a_number_is_never_served_from_the_cache_as_its_discounts_start_and_end(
    mroonga, count_path, monkeypatch
):
    """A number matches a running discount's price: its count changes with the clock, with no
    course write to end a cached one."""
    now = timezone.now()
    CourseFactory(name="other", price=Decimal("99.00"))
    CourseFactory(
        name="限时",
        price=Decimal("19.90"),
        discount_price=Decimal("9.90"),
        discount_start=now - timedelta(days=1),
        discount_end=now + timedelta(hours=1),
    )
    assert searched("9.90") == searched("9.90") == scanned("9.90") == 1
    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(hours=2))  # the discount ended
    assert searched("9.90") == scanned("9.90") == 0
