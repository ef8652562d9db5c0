"""Courses on sale with the price a buyer pays now: what placing an order needs of the catalog.

The rows and the price are `Course.objects.visible().with_current_price(now)`: the visibility
and the running discount are the Q objects of apps/course/models.py, written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from .models import CENT, Course


@dataclass(frozen=True)
class PricedCourse:
    """What an order needs of a course: its name, list price and the price paid now."""

    pk: int
    name: str
    price: Decimal
    real_price: Decimal


def _on_sale(course_ids: Sequence[int], now: datetime | None):
    return (
        Course.objects.visible()
        .with_current_price(now or timezone.now())
        .filter(pk__in=list(course_ids))
        .values_list("pk", "name", "price", "current_price")
    )


def _priced(pk: int, name: str, price: Decimal, current: Decimal) -> PricedCourse:
    # SQLite hands back annotated decimals with excess digits; money has two (Course.real_price).
    return PricedCourse(pk=pk, name=name, price=price, real_price=Decimal(current).quantize(CENT))


def priced_on_sale(
    course_ids: Sequence[int], *, now: datetime | None = None
) -> dict[int, PricedCourse]:
    """The visible courses among these ids (unique), by id, priced at `now` (default: now)."""
    if not course_ids:
        return {}
    return {row[0]: _priced(*row) for row in _on_sale(course_ids, now)}
