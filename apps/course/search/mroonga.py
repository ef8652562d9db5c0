"""The Mroonga backend: a full-text index of every visible course's name and brief, on MariaDB.

Why Mroonga rather than an n-gram table of our own: Groonga keeps compressed posting lists per
bigram, built in C (72 s for 1,000,000 courses on a busy 2-core machine, bench/search_scale.py)
and answers a rare word in milliseconds; our own table would hold one row per course and
distinct bigram (about 60 per course here: ~60 million InnoDB rows, estimated, not built) and
would need our own tokeniser to agree with the collation, which Mroonga's normaliser does.

The table and how it is built: table.py. For most words the index only narrows and the LIKE
predicate decides; for the words EXACT describes the index decides alone, and a search of only
such words, unfiltered and in `orders` order, is counted and paged by the index
(MroongaSearch.count/page): `COUNT(*)` and `ORDER BY orders, id LIMIT` on the search table, or
faster through the optional accelerators (accelerators/: Groonga's own select, the word index,
the rare word first, the ordered scan; SEARCH_ACCELERATORS turns them off). A search of one
number is decided too: its text from this table, its prices by indexed equality on luffy_course
(numbers.py).

Transactions: Mroonga's storage mode has none. A write is visible to every connection at once
and a ROLLBACK does not undo it (MariaDB only warns). So a save inside a transaction adds the
new text to the entry and keeps the old one (a rollback leaves an entry that still finds the
course by its old text: too many candidates, never too few), and after the commit the entry is
rewritten with just the committed text; until then the course is marked in PENDING and the
index decides nothing. A mark a rollback left (older than STALE_MARK_SECONDS) is repaired by the
next committed course write, which re-indexes its course from the committed row. A delete removes
the entry after its commit. An entry left for a course that no longer exists (the process died
between a delete's commit and its on-commit work) would count in an index-only count:
rebuild_search_index after such a crash.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from utils.logging import get_logger

from ..models import Course
from . import accelerators, numbers
from .table import (
    BY_TEXT,
    COURSE_TABLE,
    EXACT,
    MATCH,
    PENDING,
    PENDING_TABLE,
    RUN,
    TABLE,
    boolean_query,
    build_table,
    build_table_name,
    condition_sql,
    engine_available,
    ids_matching,
    placeholders,
    rows_sql,
    table_engine,
    visible_sql,
)
from .words import as_price

__all__ = ["PENDING", "TABLE", "MroongaSearch", "engine_available", "is_exact", "table_engine"]

logger = get_logger("course.search")

# A mark older than this (seconds) is taken as left by a rollback (no request transaction here
# lasts a minute): the next committed course write re-indexes its course, which clears it.
STALE_MARK_SECONDS = 60


def is_exact(word: str) -> bool:
    """Whether the index alone decides `word` (EXACT, and not a number a price could match)."""
    return EXACT.fullmatch(word) is not None and as_price(word) is None


def _word_ids(word: str, words: list[str]) -> set[int] | None:
    """The candidates of one numeric word: its text or a price equal to it (None: too many)."""
    price = as_price(word)
    now = timezone.now()
    if len(words) == 1 and not EXACT.fullmatch(word):
        # A search of one other number is decided (numbers.py): its candidates are exact.
        return numbers.candidates(word, price, now)
    by_price, params = condition_sql(numbers.priced_at(price, now))
    by_price = f"SELECT id FROM {COURSE_TABLE} WHERE {by_price}"  # noqa: S608
    union = f"SELECT id FROM ({BY_TEXT} UNION {by_price}) AS found"  # noqa: S608
    return ids_matching(union, [boolean_query(RUN.findall(word)), *params])


def _both(found: set[int] | None, ids: set[int] | None) -> set[int] | None:
    """Candidates of two conditions ANDed (None: that one narrows nothing)."""
    if ids is None:
        return found
    return ids if found is None else found & ids


class MroongaSearch:
    name = "mroonga"

    def matching(self, words: list[str]) -> Q | None:
        """The ids the index finds for every word (ANDed), or None past MAX_CANDIDATES.

        The ids are read first and handed to the search as a list: the count and the page then
        look up at most MAX_CANDIDATES rows by primary key. Measured at 1,000,000 courses, a
        join to the index (IN (SELECT ... MATCH ...)) cost 15-25 us per candidate, run twice
        (count, page): 5 s for a word in a third of the catalog, five times the LIKE scan. A
        word matching more than MAX_CANDIDATES courses narrows nothing worth an index: the scan
        decides alone. A number matches the name or brief, or a price (running discounts
        only): the union, in one query.
        """
        found: set[int] | None = None  # None: not narrowed (yet)
        text_runs: list[str] = []
        for word in words:
            if as_price(word) is None:
                text_runs.extend(RUN.findall(word))
            else:
                found = _both(found, _word_ids(word, words))
        if text_runs:
            query = boolean_query(dict.fromkeys(text_runs))
            found = _both(found, ids_matching(BY_TEXT, [query]))
        return None if found is None else Q(pk__in=sorted(found))

    def decides(self, words: list[str]) -> frozenset[str]:
        """The words whose index match is exactly the LIKE predicate (see EXACT), none while a
        write is uncommitted (its entry may hold text the course no longer has)."""
        exact = frozenset(word for word in words if is_exact(word))
        if numbers.single_number(words):
            exact = frozenset(words)  # text and prices, counted and paged exactly (numbers.py)
        if not exact:
            return exact
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {PENDING} LIMIT 1")  # noqa: S608 - constants
            pending = cursor.fetchone() is not None
        return frozenset() if pending else exact

    def count(self, words: list[str], *, reads: dict[str, Any] | None = None) -> int:
        """How many visible courses hold every word (all decided): Mroonga counts from the
        index's posting lists without reading a row (status Mroonga_count_skip), unless an
        accelerator answers; a single number counts its text and prices (numbers.py)."""
        reads = {} if reads is None else reads
        number = numbers.single_number(words)
        if number:
            return numbers.count(*number, reads)
        fast = accelerators.count(words, reads)
        if fast is not None:
            return fast
        with connection.cursor() as cursor:
            count = f"SELECT COUNT(*) FROM {TABLE} WHERE {MATCH}"  # noqa: S608 - constants
            cursor.execute(count, [boolean_query(words)])
            return int(cursor.fetchone()[0])

    def page(
        self,
        words: list[str],
        *,
        descending: bool,
        offset: int,
        limit: int,
        count: int | None = None,
        reads: dict[str, Any] | None = None,
    ) -> list[int]:
        """Ids of a page of the visible courses holding every word (all decided), by `orders`
        (descending: -orders) then id. Mroonga sorts the matches inside Groonga and reads only
        `limit` rows (status Mroonga_fast_order_limit), but it still collects every match
        first (200 ms for a word in half of 1,000,000 courses): the accelerators avoid that."""
        reads = {} if reads is None else reads
        number = numbers.single_number(words)
        if number:
            return numbers.page(
                *number, descending=descending, offset=offset, limit=limit, reads=reads
            )
        fast = accelerators.page(
            words, descending=descending, offset=offset, limit=limit, count=count, reads=reads
        )
        if fast is not None:
            return fast
        direction = "DESC" if descending else "ASC"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {TABLE} WHERE {MATCH} "  # noqa: S608 - constants
                f"ORDER BY orders {direction}, id ASC LIMIT %s OFFSET %s",
                [boolean_query(words), limit, offset],
            )
            return [row[0] for row in cursor.fetchall()]

    def index(self, course_ids: Iterable[int], *, until_commit: bool = False) -> None:
        ids = list(course_ids)
        if not ids:
            return
        with connection.cursor() as cursor:
            if until_commit:
                _mark_pending(cursor, ids)
                _write_entries(cursor, ids, keep_old=True)
                return
            _write_entries(cursor, ids, keep_old=False)
            _drop_hidden(cursor, ids)
            cursor.execute(f"DELETE FROM {PENDING} WHERE id IN ({placeholders(ids)})", ids)  # noqa: S608
            stale = _stale_marks(cursor)
        if stale:
            logger.info("search index: re-indexing %s courses a rolled-back write marked", stale)
            self.index(stale)

    def remove(self, course_ids: Iterable[int]) -> None:
        ids = list(course_ids)
        if not ids:
            return
        with connection.cursor() as cursor:
            for table in (TABLE, PENDING):
                drop = f"DELETE FROM {table} WHERE id IN ({placeholders(ids)})"  # noqa: S608
                cursor.execute(drop, ids)

    def rebuild(self) -> int:
        """Build a new table beside the live one, swap them in one RENAME, then catch up.

        Searches keep using the old table while the new one is built. Courses saved meanwhile
        went to the old table only; they are indexed again after the swap (by updated_time,
        from a second before the build began).
        """
        started = time.time()
        since = timezone.now() - timedelta(seconds=1)
        with connection.cursor() as cursor:
            if not engine_available(cursor):
                raise RuntimeError("the Mroonga engine is not loaded (mariadb-plugin-mroonga)")
            # The new table holds committed rows only, so earlier marks are moot: a write still
            # open rewrites its entry when it commits (or is caught up below).
            cursor.execute(PENDING_TABLE)
            cursor.execute(f"DELETE FROM {PENDING}")  # noqa: S608 - constants
            count = build_table(cursor, f"{TABLE}_new")
            _swap_in(cursor)
        late = list(Course.objects.filter(updated_time__gte=since).values_list("id", flat=True))
        for first in range(0, len(late), 1000):
            self.index(late[first : first + 1000])
        logger.info("search index rebuilt: %s courses in %.1fs", count, time.time() - started)
        return count

    def problem(self) -> str:
        with connection.cursor() as cursor:
            if not engine_available(cursor):
                return "SEARCH_BACKEND=mroonga but the Mroonga engine is not loaded"
            if table_engine(cursor) != "Mroonga" or table_engine(cursor, PENDING) != "Mroonga":
                return f"SEARCH_BACKEND=mroonga but {TABLE} is missing (rebuild_search_index)"
            cursor.execute(
                "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_NAME = %s AND COLUMN_NAME = 'long_run'",
                [TABLE],
            )
            if cursor.fetchone() is None:
                return f"SEARCH_BACKEND=mroonga but {TABLE} is out of date (rebuild_search_index)"
        return ""


def _mark_pending(cursor: Any, ids: list[int]) -> None:
    """Marked first: from now until the commit clears it, LIKE decides every search."""
    rows = ", ".join(["(%s, %s)"] * len(ids))
    now = int(time.time())
    cursor.execute(
        f"INSERT INTO {PENDING} (id, marked) VALUES {rows} "  # noqa: S608 - constants
        "ON DUPLICATE KEY UPDATE marked = VALUES(marked)",
        [value for pk in ids for value in (pk, now)],
    )


def _write_entries(cursor: Any, ids: list[int], *, keep_old: bool) -> None:
    """Upsert the entries of these courses from their rows (visible ones). Before the commit
    (`keep_old`) a course keeps its old text and stays indexed even if hidden (a rollback must
    leave it findable); after, the entry is the committed course."""
    body = "CONCAT(body, '\\n', VALUES(body))" if keep_old else "VALUES(body)"
    long_run = "long_run OR VALUES(long_run)" if keep_old else "VALUES(long_run)"
    cursor.execute(
        f"INSERT INTO {TABLE} (id, body, orders, long_run) {rows_sql()} "
        f"AND id IN ({placeholders(ids)}) ON DUPLICATE KEY UPDATE body = {body}, "
        f"orders = VALUES(orders), long_run = {long_run}",
        ids,
    )


def _drop_hidden(cursor: Any, ids: list[int]) -> None:
    """Remove the entries of those of these courses that are not visible (committed rows)."""
    visible = f"SELECT id FROM {COURSE_TABLE} WHERE id IN ({placeholders(ids)}) AND {visible_sql()}"  # noqa: S608
    cursor.execute(visible, ids)
    shown = {row[0] for row in cursor.fetchall()}
    hidden = [pk for pk in ids if pk not in shown]
    if hidden:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id IN ({placeholders(hidden)})", hidden)  # noqa: S608


def _stale_marks(cursor: Any) -> list[int]:
    """Courses marked by a write that never committed (a rollback), oldest first, at most 1000."""
    cursor.execute(
        f"SELECT id FROM {PENDING} WHERE marked < %s ORDER BY marked LIMIT 1000",  # noqa: S608
        [int(time.time()) - STALE_MARK_SECONDS],
    )
    return [row[0] for row in cursor.fetchall()]


def _swap_in(cursor: Any) -> None:
    """Put the table built as `<TABLE>_new` (and its build token) in place of the live one."""
    new, live = build_table_name(f"{TABLE}_new"), build_table_name(TABLE)
    old = build_table_name(f"{TABLE}_old")
    if table_engine(cursor) is None:
        cursor.execute(f"DROP TABLE IF EXISTS {live}")
        cursor.execute(f"RENAME TABLE {TABLE}_new TO {TABLE}, {new} TO {live}")
        return
    if table_engine(cursor, live) is None:  # a table built before the word index
        cursor.execute(f"CREATE TABLE {live} LIKE {new}")
    cursor.execute(
        f"RENAME TABLE {TABLE} TO {TABLE}_old, {TABLE}_new TO {TABLE}, "
        f"{live} TO {old}, {new} TO {live}"
    )
    cursor.execute(f"DROP TABLE {TABLE}_old, {old}")
