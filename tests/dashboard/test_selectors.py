"""The dashboard's aggregations on known data (run on SQLite and MariaDB: local days, sums)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.dashboard.selectors import sales_summary
from apps.order.models import Order, Refund
from tests.factories import CourseFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def paid(when: datetime, *lines, status=Order.Status.PAID) -> Order:
    """A paid order of (course, real price) lines, its total their sum."""
    total = sum((price for _, price in lines), Decimal("0"))
    order = OrderFactory(paid=True, pay_time=when, total_amount=total, order_status=status)
    for course, price in lines:
        OrderLineFactory(order=order, course=course, price=price, real_price=price)
    return order


@pytest.fixture
def shop():
    a, b, c, d = (CourseFactory(name=n) for n in ("课程A", "课程B", "课程C", "课程D"))
    paid(at(3, 15, 10), (a, Decimal("60.00")), (b, Decimal("40.00")))
    paid(at(3, 15, 0, 30), (a, Decimal("50.00")))  # 16:30 UTC the day before: today locally
    paid(at(3, 1, 9), (b, Decimal("30.00")))
    paid(at(2, 20, 18), (c, Decimal("200.00")))
    paid(at(2, 10, 9), (a, Decimal("999.00")))  # before the 30 days
    refunded = paid(at(3, 10, 8), (d, Decimal("70.00")), status=Order.Status.REFUNDED)
    OrderFactory(expires_at=at(3, 15, 12, 20))  # open
    OrderFactory(expires_at=at(3, 15, 11, 50))  # unpaid but past its window
    OrderFactory(order_status=Order.Status.CANCELLED)
    done = Refund.objects.create(
        order=refunded,
        kind=Refund.Kind.STAFF,
        amount=Decimal("70.00"),
        reason="买错了",
        out_request_no="R1",
        status=Refund.Status.SUCCEEDED,
    )
    Refund.objects.filter(pk=done.pk).update(created_at=at(3, 12, 9))
    Refund.objects.create(
        order=refunded,
        kind=Refund.Kind.STAFF,
        amount=Decimal("1.00"),
        reason="x",
        out_request_no="R2",
    )
    return a, b, c, d


def test_today_and_this_month_count_payments_by_local_day(shop):
    summary = sales_summary(now=NOW)

    assert (summary.today.revenue, summary.today.orders) == (Decimal("150.00"), 2)
    assert (summary.month.revenue, summary.month.orders) == (Decimal("250.00"), 4)
    assert (summary.window.revenue, summary.window.orders) == (Decimal("450.00"), 5)
    assert str(summary.month.revenue) == "250.00"  # shown as money on every backend


def test_the_daily_series_has_thirty_local_days_with_zeros_filled(shop):
    days = sales_summary(now=NOW).days

    assert len(days) == 30
    assert (days[0].day, days[-1].day) == (date(2026, 2, 14), date(2026, 3, 15))
    by_day = {d.day: (d.revenue, d.orders) for d in days if d.orders}
    assert by_day == {
        date(2026, 3, 15): (Decimal("150.00"), 2),
        date(2026, 3, 10): (Decimal("70.00"), 1),
        date(2026, 3, 1): (Decimal("30.00"), 1),
        date(2026, 2, 20): (Decimal("200.00"), 1),
    }
    assert all(d.revenue == 0 for d in days if not d.orders)


def test_top_courses_rank_by_what_buyers_paid_in_the_window(shop):
    a, b, c, d = shop

    top = sales_summary(now=NOW).top_courses

    assert [(t.course_id, t.revenue, t.sold) for t in top] == [
        (c.pk, Decimal("200.00"), 1),
        (a.pk, Decimal("110.00"), 2),
        (b.pk, Decimal("70.00"), 2),
        (d.pk, Decimal("70.00"), 1),
    ]
    assert top[0].name == "课程C"


def test_open_unpaid_orders_and_refunds_are_counted(shop):
    summary = sales_summary(now=NOW)

    assert summary.open_unpaid == 1
    assert summary.refunds.amount == Decimal("70.00")
    assert summary.refunds.count == 1
    assert summary.refunds.pending == 1


def test_an_empty_shop_has_zeros_everywhere():
    summary = sales_summary(now=NOW)

    assert summary.today.revenue == Decimal("0.00") and summary.today.orders == 0
    assert summary.top_courses == [] and summary.refunds.amount == 0
    assert len(summary.days) == 30
