"""The count cache: exact counts of the searches the index answers alone, shared by all workers.

Counting a common word is most of an uncached search at scale: Mroonga collects every match to
count it (120-180 ms for a word in 200,000-540,000 of 1,000,000 courses, docs/benchmark.md).
Such a search (`selectors.IndexedSearch`: no filter, every word decided by the index) finds the
visible courses whose name or brief holds every word. Its count depends on nothing else: the
cached words are letters and digits and never a number, so no price (nor a discount starting
or ending) changes it, and neither do `students` or `orders`, which every payment changes. A
search of one number is decided by the index too (text and prices), but its count follows the
clock (a discount's price counts while the discount runs): it is never cached (`count`).

Entries live in the table `luffy_search_count` (every worker and node reads the same; the
configured cache may be per process), keyed by a digest of the words (case folded as the index
folds it, order and repeats dropped), each tagged with the *search generation* it was counted
in. A lookup is one query and hits only an entry of the current generation. The generation
(the row keyed GENERATION) is bumped:

* in the transaction of every course save (create, any edit, hiding, a status change), so the
  commit that changes a count also ends the counts taken before it (`connect`);
* after a course delete's commit, once its index entry is gone (the entry is removed on commit);
* after `rebuild_search_index`, the one path that rewrites the index in bulk.
Payments, refunds and staff grants change `students` with QuerySet.update, which sends no
signal: they never bump it (tests/course/test_search_counts.py).

A count is stored under the generation read before it was counted, and only if no course
write is pending in the index after it was counted (a pending entry holds the old and the new
text until its transaction ends; a rolled-back one keeps its old generation). A count taken
while a write commits is stored under the generation that write ends, so it is never read.

Size: at most MAX_ENTRIES entries, plus what workers store between prunes. Every PRUNE_EVERY
stores a process deletes the entries of older generations, then the longest-stored beyond
MAX_ENTRIES.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from ..models import Course, SearchCount
from . import search_backend
from .words import as_price

GENERATION = "generation"  # the digest of the row that holds the current generation
MAX_ENTRIES = 10_000
PRUNE_EVERY = 200  # stores (per process) between prunes
_stores = 0  # stores by this process since its last prune


def digest(words: Iterable[str]) -> str:
    """The cache key of a search: its words with ASCII case folded (the index folds it; other
    letters are kept as typed, so two searches share a key only if they find the same courses),
    repeats and order dropped."""
    folded = sorted({word.encode().lower().decode() for word in words})
    return hashlib.sha256("\n".join(folded).encode()).hexdigest()


def _table() -> str:
    return connection.ops.quote_name(SearchCount._meta.db_table)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _lookup_sql() -> str:
    table, key, gen = _table(), _q("digest"), _q("generation")
    return (
        f"SELECT g.{gen}, c.{gen}, c.{_q('found')} FROM {table} g "  # noqa: S608 - model names
        f"LEFT JOIN {table} c ON c.{key} = %s WHERE g.{key} = %s"
    )


def _upsert_sql(update: str) -> str:
    """INSERT (digest, generation, found, stored_at), or `update` the row that has the digest."""
    columns = ", ".join(_q(c) for c in ("digest", "generation", "found", "stored_at"))
    head = f"INSERT INTO {_table()} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608
    if connection.vendor == "mysql":
        return f"{head} ON DUPLICATE KEY UPDATE {update}"
    return f"{head} ON CONFLICT ({_q('digest')}) DO UPDATE SET {update}"


def _new(column: str) -> str:
    """The value an upsert was given for `column`, in the vendor's spelling."""
    if connection.vendor == "mysql":
        return f"VALUES({_q(column)})"
    return f"excluded.{_q(column)}"


def _now_us() -> int:
    return time.time_ns() // 1000


def count(words: list[str], *, reads: dict[str, Any] | None = None) -> int:
    """How many visible courses hold every word: from the cache when it has this generation's
    count, else counted by the index (only for words the index decides: IndexedSearch). A
    search of a number is never cached: the index decides it too (its text and the prices
    equal to it), but a discount's price counts only while the discount runs, so the count
    changes with the clock, with no course write to end it. `reads`: see CourseSearch.count."""
    if any(as_price(word) is not None for word in words):
        return search_backend().count(words, reads=reads)
    key = digest(words)
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [key, GENERATION])
        row = cursor.fetchone()
    if row is not None and row[1] == row[0]:
        return int(row[2])
    backend = search_backend()
    found = backend.count(words, reads=reads)
    if row is None:
        _start()  # no generation yet (a new or emptied table): cache from the next search on
    elif backend.decides(words) == frozenset(words):  # no write pending while it counted
        _store(key, row[0], found)
    return found


def _store(key: str, generation: int, found: int) -> None:
    global _stores
    update = ", ".join(f"{_q(c)} = {_new(c)}" for c in ("generation", "found", "stored_at"))
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(update), [key, generation, found, _now_us()])
    _stores += 1
    if _stores >= PRUNE_EVERY:
        prune()


def _start() -> None:
    """Create the generation row if missing. It starts at the time in µs, above any generation
    an entry left from an earlier row could have (each bump adds one)."""
    gen = _q("generation")
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(f"{gen} = {gen}"), [GENERATION, _now_us(), 0, 0])


def bump() -> None:
    """End every cached count: call in the transaction of a write that may change one (or
    after it, for an index that changes after the commit). One upsert; the row stays locked
    until the caller's transaction ends."""
    gen = _q("generation")
    table = _table()
    target = gen if connection.vendor == "mysql" else f"{table}.{gen}"
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(f"{gen} = {target} + 1"), [GENERATION, _now_us(), 0, 0])


def bump_after_commit() -> None:
    """`bump` once the current transaction commits (at once outside of one), after the
    on-commit work registered before it (the index's removal of a deleted course)."""
    transaction.on_commit(bump)


def prune() -> int:
    """Delete the entries of older generations, then the longest-stored beyond MAX_ENTRIES;
    returns how many went."""
    global _stores
    _stores = 0
    entries = SearchCount.objects.exclude(digest=GENERATION)
    current = SearchCount.objects.filter(digest=GENERATION).values_list("generation", flat=True)
    generation = current.first()
    deleted = 0
    if generation is not None:
        deleted += entries.filter(generation__lt=generation).delete()[0]
    cutoff = (
        entries.order_by("-stored_at", "-digest")
        .values_list("stored_at", flat=True)[MAX_ENTRIES : MAX_ENTRIES + 1]
        .first()
    )
    if cutoff is not None:
        deleted += entries.filter(stored_at__lte=cutoff).delete()[0]
    return deleted


# --- Signals: the course writes that end the cached counts -------------------------------------


def _course_saved(sender: type, **kwargs: object) -> None:
    bump()  # in the save's transaction: its commit ends the counts taken before


def _course_deleted(sender: type, **kwargs: object) -> None:
    # The index forgets the course once the delete commits (search/sync.py, connected first):
    # a count taken before that would still hold it, so the generation moves after.
    bump_after_commit()


def connect() -> None:
    """Connect after search.sync: its receivers (and on-commit work) must run first."""
    post_save.connect(_course_saved, sender=Course, dispatch_uid="search-count-course")
    post_delete.connect(_course_deleted, sender=Course, dispatch_uid="search-count-delete")
