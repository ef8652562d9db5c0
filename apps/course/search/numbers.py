"""Searches of one number on the Mroonga backend: the text holding it, or a price equal to it.

`price = p OR current_price = p` (selectors.search_courses) is `price = p`, or `discount_price
= p` while the discount runs (Course.objects.with_current_price; both from the Q objects of
apps/course/models.py). Both are read by indexed equality: course_price_listing (price, status,
is_show, is_delete, orders) and course_discount_listing (discount_price, the same, then the
window and price), so a price is counted and paged in (orders, id) order from the index alone,
never by a scan of the catalog; the text part comes from the search table. At 1,000,000 courses
`199` is the price of 100,000. Such a count follows the clock (a discount's price counts while
it runs), so it is never cached (counts.py).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from ..models import Course, discount_running
from . import table
from .table import (
    BY_TEXT,
    COURSE_TABLE,
    EXACT,
    RUN,
    boolean_query,
    condition_sql,
    ids_matching,
    placeholders,
    visible_sql,
)
from .words import as_price


def _visible_courses():
    return Course.objects.visible()


def _text_rows(word: str, price: Decimal, now: datetime) -> dict[int, tuple[int, bool]] | None:
    """The visible courses whose name or brief holds the numeric `word` (icontains, exactly):
    id -> (orders, whether a price matches too); None past MAX_CANDIDATES. The index's
    candidates, re-checked with the predicate unless it decides the word; read by primary key
    (MariaDB would otherwise walk course_listing testing `id IN`)."""
    runs = RUN.findall(word)
    ids = ids_matching(BY_TEXT, [boolean_query(runs)]) if runs else None
    if not ids:
        return None if ids is None else {}
    priced, params = condition_sql(priced_at(price, now))
    params.extend(sorted(ids))
    held = ""
    if not EXACT.fullmatch(word):
        held = " AND (name LIKE %s OR brief LIKE %s)"
        params.extend([f"%{connection.ops.prep_for_like_query(word)}%"] * 2)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, orders, {priced} FROM {COURSE_TABLE} FORCE INDEX (PRIMARY) "  # noqa: S608
            f"WHERE id IN ({placeholders(ids)}) AND {visible_sql()}{held}",
            params,
        )
        return {row[0]: (row[1], bool(row[2])) for row in cursor.fetchall()}


def _price_matches(price: Decimal, now: datetime) -> tuple[Q, Q]:
    """The two parts of "a price equals `price`", disjoint: the price itself, and a running
    discount at `price` on a course whose price is another."""
    return Q(price=price), Q(discount_running(now), discount_price=price) & ~Q(price=price)


def priced_at(price: Decimal, now: datetime) -> Q:
    """A price equal to `price` at `now`: the price, or the discount price while it runs
    (Course.objects.with_current_price: price = p OR current_price = p)."""
    return Q(price=price) | Q(discount_running(now), discount_price=price)


def candidates(word: str, price: Decimal, now: datetime) -> set[int] | None:
    """Every course matching the numeric `word` by text (visible ones) or price, exactly; None
    past MAX_CANDIDATES."""
    text = _text_rows(word, price, now)
    if text is None:
        return None
    found = set(text)
    for part in _price_matches(price, now):
        rows = Course.objects.filter(part).values_list("id", flat=True)[: table.MAX_CANDIDATES + 1]
        found.update(rows)
        if len(found) > table.MAX_CANDIDATES:
            return None
    return found


def single_number(words: list[str]) -> tuple[str, Decimal] | None:
    """The search's word and its price when the search is one numeric word (decided, counted
    and paged here; a number among other words is left to the predicate)."""
    if len(words) != 1:
        return None
    price = as_price(words[0])
    return None if price is None else (words[0], price)


def count(word: str, price: Decimal, reads: dict[str, Any]) -> int:
    """Visible courses matching the numeric `word`: the prices' by index (course_price_listing,
    course_discount_listing), plus those the text alone finds; a scan when the text is common."""
    now = timezone.now()
    text = _text_rows(word, price, now)
    if text is None:
        return _number_scan(word, price, now).count()
    reads["number"] = text
    visible = _visible_courses()
    by_price = sum(visible.filter(part).count() for part in _price_matches(price, now))
    return by_price + sum(1 for _orders, priced in text.values() if not priced)


def _number_scan(word: str, price: Decimal, now: datetime):
    """The predicate itself (search_courses' condition for a numeric word): the slow path."""
    held = Q(name__icontains=word) | Q(brief__icontains=word)
    return (
        _visible_courses()
        .with_current_price(now)
        .filter(held | Q(price=price) | Q(current_price=price))
    )


def page(
    word: str,
    price: Decimal,
    *,
    descending: bool,
    offset: int,
    limit: int,
    reads: dict[str, Any],
) -> list[int]:
    """A page by (orders, id), -orders when descending: the first offset + limit of each price
    part (each read in order from its index) and the text's matches, merged."""
    now = timezone.now()
    order = ("-orders", "id") if descending else ("orders", "id")
    text = reads.get("number")  # the count's read (the text's matches ignore the clock)
    if text is None:
        text = _text_rows(word, price, now)
    if text is None:
        scan = _number_scan(word, price, now).order_by(*order)
        return list(scan.values_list("id", flat=True)[offset : offset + limit])
    visible = _visible_courses()
    rows = {(orders, pk) for pk, (orders, _priced) in text.items()}
    for part in _price_matches(price, now):
        first = visible.filter(part).order_by(*order)[: offset + limit]
        rows.update(first.values_list("orders", "id"))
    ordered = sorted(rows, key=lambda row: (-row[0] if descending else row[0], row[1]))
    return [pk for _orders, pk in ordered[offset : offset + limit]]
