"""What shoppers see of flash sales (the ones running now and the ones coming), and how each
went for staff (the admin and the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.course.models import Course
from apps.order.models import PAID_STATES

from .models import FlashSale


def current_and_coming(now: datetime) -> QuerySet[FlashSale]:
    """Sales not over yet, of courses on show, soonest first."""
    return (
        FlashSale.objects.filter(ends_at__gt=now, course__in=Course.objects.visible())
        .select_related("course")
        .order_by("starts_at", "id")
    )


_HELD = Q(taken_seats__holding=True)
_PAID = Q(taken_seats__order__order_status__in=PAID_STATES)


def with_results(sales: QuerySet[FlashSale]) -> QuerySet[FlashSale]:
    """Each sale with its seats counted: `n_unpaid` (held by an order not paid yet), `n_paid`
    (held by a paid order, refunded ones included), `n_released` (given back when their order
    expired or was cancelled, then on sale again). Sold now = seats - seats_left."""
    return sales.annotate(
        n_unpaid=Count("taken_seats", filter=_HELD & ~_PAID),
        n_paid=Count("taken_seats", filter=_HELD & _PAID),
        n_released=Count("taken_seats", filter=Q(taken_seats__holding__isnull=True)),
    )


@dataclass(frozen=True)
class FlashSaleResult:
    sale_id: int
    course: str
    seats: int
    sold: int  # held now, paid or not
    paid: int
    unpaid: int
    released: int
    starts_at: datetime
    ends_at: datetime
    running: bool


def flash_sale_results(
    *, now: datetime | None = None, days: int = 30, limit: int = 10
) -> list[FlashSaleResult]:
    """The dashboard's flash sales: running, coming, or ended in the last `days`, latest start
    first. One query."""
    now = now or timezone.now()
    sales = with_results(
        FlashSale.objects.filter(ends_at__gt=now - timedelta(days=days)).select_related("course")
    ).order_by("-starts_at", "-id")[:limit]
    return [
        FlashSaleResult(
            sale_id=s.pk,
            course=s.course.name,
            seats=s.seats,
            sold=s.seats - s.seats_left,
            paid=s.n_paid,
            unpaid=s.n_unpaid,
            released=s.n_released,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            running=s.starts_at <= now < s.ends_at,
        )
        for s in sales
    ]
