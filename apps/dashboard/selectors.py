"""Sales figures for the admin's front page, aggregated by the database.

Every query is a range on an indexed column: paid orders by `pay_time` (the covering index
`order_paid_sales` holds status and amount too, so the daily series never reads the table),
open orders by `(order_status, expires_at)`, refunds by `(status, created_at)`. Top courses
join the lines of the window's paid orders only. At 1M orders: see `bench/dashboard.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.order.models import PAID_STATES, Order, OrderDetail, Refund

ZERO = Decimal("0.00")


def _money(value: Decimal | None) -> Decimal:
    """Two places whatever the backend returns (SQLite's SUM can drop trailing zeros)."""
    return (value or ZERO).quantize(ZERO)


@dataclass(frozen=True)
class Totals:
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class DayTotals:
    day: date
    revenue: Decimal
    orders: int


@dataclass(frozen=True)
class CourseRevenue:
    course_id: int
    name: str
    revenue: Decimal
    sold: int


@dataclass(frozen=True)
class RefundTotals:
    amount: Decimal  # succeeded in the window
    count: int
    pending: int  # waiting for Alipay's answer, any age


@dataclass(frozen=True)
class SalesSummary:
    days: list[DayTotals]  # oldest first, one per day, zeros included
    today: Totals
    month: Totals
    window: Totals  # the `days` together
    top_courses: list[CourseRevenue]
    open_unpaid: int  # unpaid and still payable
    refunds: RefundTotals


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _paid(start: datetime, end: datetime):
    return Order.objects.filter(
        pay_time__gte=start, pay_time__lt=end, order_status__in=list(PAID_STATES)
    )


def _totals(start: datetime, end: datetime) -> Totals:
    row = _paid(start, end).aggregate(revenue=Sum("total_amount"), orders=Count("id"))
    return Totals(revenue=_money(row["revenue"]), orders=row["orders"])


def daily_sales(*, first: date, last: date) -> list[DayTotals]:
    """Revenue and paid orders per local day from `first` to `last` (inclusive), zeros filled.

    Revenue is what was paid (refunds are counted apart), by the day the payment arrived.
    """
    tz = timezone.get_current_timezone()
    rows = (
        _paid(_local_midnight(first), _local_midnight(last + timedelta(days=1)))
        .annotate(day=TruncDate("pay_time", tzinfo=tz))
        .values("day")
        .annotate(revenue=Sum("total_amount"), orders=Count("id"))
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        days.append(
            DayTotals(day=day, revenue=_money(row.get("revenue")), orders=row.get("orders") or 0)
        )
    return days


def top_courses(*, start: datetime, end: datetime, limit: int = 10) -> list[CourseRevenue]:
    """Courses by what buyers paid for them (lines' real prices) in orders paid in the window."""
    rows = (
        OrderDetail.objects.filter(
            order__pay_time__gte=start,
            order__pay_time__lt=end,
            order__order_status__in=list(PAID_STATES),
        )
        .values("course_id", "course__name")
        .annotate(revenue=Sum("real_price"), sold=Count("id"))
        .order_by("-revenue", "course_id")[:limit]
    )
    return [
        CourseRevenue(
            course_id=row["course_id"],
            name=row["course__name"],
            revenue=_money(row["revenue"]),
            sold=row["sold"],
        )
        for row in rows
    ]


def refund_totals(*, start: datetime, end: datetime) -> RefundTotals:
    done = Refund.objects.filter(
        status=Refund.Status.SUCCEEDED, created_at__gte=start, created_at__lt=end
    ).aggregate(amount=Sum("amount"), count=Count("id"))
    pending = Refund.objects.filter(status=Refund.Status.PENDING).count()
    return RefundTotals(amount=_money(done["amount"]), count=done["count"], pending=pending)


def sales_summary(*, now: datetime | None = None, days: int = 30, top: int = 10) -> SalesSummary:
    """The dashboard's figures: the last `days` local days up to and including today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    start, end = _local_midnight(first), _local_midnight(today + timedelta(days=1))
    series = daily_sales(first=first, last=today)
    open_unpaid = Order.objects.filter(order_status=Order.Status.UNPAID, expires_at__gt=now).count()
    return SalesSummary(
        days=series,
        today=_totals(_local_midnight(today), end),
        month=_totals(_local_midnight(today.replace(day=1)), end),
        window=Totals(
            revenue=sum((d.revenue for d in series), ZERO), orders=sum(d.orders for d in series)
        ),
        top_courses=top_courses(start=start, end=end, limit=top),
        open_unpaid=open_unpaid,
        refunds=refund_totals(start=start, end=end),
    )
