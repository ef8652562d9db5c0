"""Optional accelerators of the Mroonga backend's index-only searches: one entry point each for
the count and the page (`count`, `page`), turned off by SEARCH_ACCELERATORS=false.

Without them MroongaSearch counts with `SELECT COUNT(*) ... MATCH` and pages with `ORDER BY
orders, id LIMIT` on the search table: the same answers (every path here is checked against
LIKE by tests/course/test_search_backends.py, with them on and off), slower at scale. Each one
returns None when it cannot answer, and the caller takes that SQL path. What they are and what
they were measured to gain at 1,000,000 courses (cold searches: count cache missed; mix of 24
queries of bench/search_scale.py; docs/benchmark.md has the history):

* Groonga's own `select` through the mroonga_command UDF (groonga.py): counts a common word
  2-3 times faster than Mroonga's SQL and returns the first FIRST_ROWS matches in order from
  the same walk, so the first page needs no second one (`reads`). A/B, UDF hidden against
  present: mix p50 27.2 -> 21.4 ms (round 10). Needs an admin step (docs/deploying.md, 6).
* The word index for Latin words (lexicon.py): a word of ASCII letters is the union of the
  lexicon keys holding it instead of a phrase of common bigrams (`Kamirovel` 31.6 -> 3.7 ms).
  A/B off against on: mix p50 21.4 -> 14.1 ms (round 11). Costs a 2.5 MB mirror of the
  lexicon per process, read on its first Latin search (0.4 s at 1M).
* The rare word first (`_few_matches`): of two words or more, the longest is read first (at
  most FEW matches, with their orders) and the others tested with LIKE on those rows; count
  and pages come from that read (round 9 A/B: `Rovelnofi Django` 322 -> 110 ms, `Kamirovel`
  127 -> 74; it then read the rarest word a per-process hint named, now the longest).
* The ordered scan (`_ordered_scan`): when the count says the words are common, the page
  walks luffy_course in (orders, id) order testing LIKE, instead of Mroonga collecting every
  match to sort it (round 9: mix p50 72 -> 58 ms; `Python` 278 -> 160).

`reads` is the one piece of state: a dict that lives for one search (selectors.IndexedSearch),
filled by the count and read by the page of the same request; nothing is kept per process
except the lexicon mirror.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection

from ..table import COURSE_TABLE, MATCH, TABLE, boolean_query, like_all, placeholders, visible_sql
from . import groonga

# A search of two words or more reads its longest word first when it has at most this many
# matches; the count and every page then come from that read.
FEW = 2_000
# Groonga's count also reads this many first matches in order: the first pages (any size up to
# utils.pagination's maximum) need no second walk.
FIRST_ROWS = 50
# A page is read by walking the courses in order when that should take fewer LIKE tests than
# this (about 1-5 us each) rather than collecting and sorting every match ...
SCAN_ROWS = 2_000
# ... and the walk gives up after this many rows (matches bunched late in the order).
SCAN_BOUND = 4 * SCAN_ROWS

Rows = list[tuple[int, int]]  # (orders, id), in (orders, id) order


def enabled() -> bool:
    return settings.SEARCH_ACCELERATORS


def count(words: list[str], reads: dict[str, Any]) -> int | None:
    """How many visible courses hold every word (all decided by the index), or None: count
    with SQL. Leaves in `reads` what the page of the same search may reuse."""
    if not enabled():
        return None
    few = _few_matches(words)
    if few is not None:
        reads["few"] = few
        return len(few)
    selected = groonga.select(TABLE, words, rows=FIRST_ROWS)
    if selected is None:
        return None
    reads["first"] = selected
    return selected.count


def page(
    words: list[str],
    *,
    descending: bool,
    offset: int,
    limit: int,
    count: int | None,
    reads: dict[str, Any],
) -> list[int] | None:
    """Ids of a page of the visible courses holding every word by (orders, id), -orders when
    descending, or None: page with SQL. `count`: the search's, when known."""
    if not enabled():
        return None
    few = reads.get("few")
    if few is not None:
        return _slice(few, descending=descending, offset=offset, limit=limit)
    first = _first_rows(reads.get("first"), descending=descending, offset=offset, limit=limit)
    if first is not None:
        return first
    if not descending and count and _scan_pays(offset + limit, count):
        ids = _ordered_scan(words, offset=offset, limit=limit)
        if len(ids) == min(limit, count - offset):
            return ids
        # The matches sit late in that order (ordering and text correlate): the walk stopped
        # at its bound; the index sorts instead.
    selected = groonga.select(TABLE, words, rows=limit, offset=offset, descending=descending)
    return None if selected is None else [pk for _orders, pk in selected.rows]


def _slice(rows: Rows, *, descending: bool, offset: int, limit: int) -> list[int]:
    if descending:
        rows = sorted(rows, key=lambda row: (-row[0], row[1]))
    return [pk for _orders, pk in rows[offset : offset + limit]]


def _first_rows(
    selected: groonga.Selected | None, *, descending: bool, offset: int, limit: int
) -> list[int] | None:
    """The page from the rows Groonga's count read (the first ones in order), when they hold
    it; else None."""
    if selected is None:
        return None
    if len(selected.rows) == selected.count:  # every match: any page, either direction
        return _slice(selected.rows, descending=descending, offset=offset, limit=limit)
    if descending or offset + limit > len(selected.rows):
        return None
    return _slice(selected.rows, descending=False, offset=offset, limit=limit)


def _few_matches(words: list[str]) -> Rows | None:
    """Every match, in order, when the search has two words or more and its longest has at
    most FEW matches (read first, the others tested on its rows); else None."""
    if len(words) < 2:
        return None
    probe = max(words, key=len)
    rows = _first_matches(probe)
    if rows is None:
        return None
    others = [word for word in words if word != probe]
    return _holding(rows, others) if rows else rows


def _first_matches(word: str) -> Rows | None:
    """The matches of one word, at most FEW of them (else None), by (orders, id)."""
    selected = groonga.select(TABLE, [word], rows=FEW + 1)
    if selected is not None:
        rows = selected.rows
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT orders, id FROM {TABLE} WHERE {MATCH} "  # noqa: S608 - constants
                "ORDER BY orders ASC, id ASC LIMIT %s",
                [boolean_query([word]), FEW + 1],
            )
            rows = [(row[0], row[1]) for row in cursor.fetchall()]
    return None if len(rows) > FEW else rows


def _holding(rows: Rows, words: list[str]) -> Rows:
    """The rows of visible courses whose name or brief holds every word (LIKE, by primary
    key)."""
    held, params = like_all(words)
    ids = [pk for _orders, pk in rows]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {COURSE_TABLE} FORCE INDEX (PRIMARY) "  # noqa: S608
            f"WHERE id IN ({placeholders(ids)}) AND {visible_sql()} AND {held}",
            [*ids, *params],
        )
        kept = {row[0] for row in cursor.fetchall()}
    return [row for row in rows if row[1] in kept]


def _scan_pays(rows: int, count: int) -> bool:
    """Whether walking the visible courses in order reaches `rows` matches within SCAN_ROWS
    rows, matches spread evenly over the order."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608 - constants: O(1)
        visible = int(cursor.fetchone()[0])
    return rows * visible <= SCAN_ROWS * count


def _ordered_scan(words: list[str], *, offset: int, limit: int) -> list[int]:
    """The page, or fewer ids once SCAN_BOUND rows were examined (LIMIT ROWS EXAMINED)."""
    where, params = like_all(words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {COURSE_TABLE} FORCE INDEX (course_listing) "  # noqa: S608
            f"WHERE {visible_sql()} AND {where} ORDER BY orders, id LIMIT %s OFFSET %s "
            "ROWS EXAMINED %s",
            [*params, limit, offset, SCAN_BOUND],
        )
        return [row[0] for row in cursor.fetchall()]
