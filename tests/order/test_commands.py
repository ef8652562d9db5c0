"""manage.py expire_orders / reconcile_orders against the local Alipay gateway."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.course.models import Course
from apps.order.models import CourseEntitlement, Order, Refund
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

GRACE = timedelta(minutes=2)


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def run_failing(command: str, *args: str) -> tuple[str, str]:
    """A run that could not do its job: (stdout, the error manage.py exits 1 with)."""
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(command, *args, stdout=out)
    return out.getvalue(), str(failure.value)


def status_of(order: Order) -> int:
    return Order.objects.get(pk=order.pk).order_status


def closed_trades(gateway) -> list[str]:
    return [r["biz_content"]["out_trade_no"] for r in gateway.requests_for("alipay.trade.close")]


def students(course: Course) -> int:
    return Course.objects.get(pk=course.pk).students


@pytest.fixture
def courses(db) -> list[Course]:
    return [CourseFactory(price=Decimal(p)) for p in ("99.90", "10.00", "0.50", "20.00")]


# --- expire_orders ------------------------------------------------------------------------------


def test_orders_past_the_window_and_grace_time_out_and_their_trades_close(
    alipay, make_order, courses
):
    opened = make_order([courses[0]], expired_ago=GRACE + timedelta(seconds=10))
    never_opened = make_order([courses[1]], expired_ago=timedelta(hours=5))
    alipay.add_trade(opened.out_trade_no, opened.total_amount)  # buyer opened the cashier

    output = run("expire_orders")

    assert status_of(opened) == Order.Status.TIMED_OUT == 3
    assert status_of(never_opened) == Order.Status.TIMED_OUT
    assert sorted(closed_trades(alipay)) == sorted([opened.out_trade_no, never_opened.out_trade_no])
    assert all(r["signature_ok"] for r in alipay.requests_for("alipay.trade.close"))
    assert alipay.trades[opened.out_trade_no]["trade_status"] == "TRADE_CLOSED"
    assert f"timed out {opened.out_trade_no}" in output
    assert f"timed out {never_opened.out_trade_no}" in output
    assert output.splitlines()[-1] == "expire_orders: 2 order(s) timed out"
    assert not CourseEntitlement.objects.exists()


def test_orders_within_the_window_or_grace_are_untouched(alipay, make_order, courses):
    open_order = make_order([courses[0]])  # expires in 15 minutes
    just_expired = make_order([courses[1]], expired_ago=timedelta(seconds=30))
    in_grace = make_order([courses[2]], expired_ago=GRACE - timedelta(seconds=20))
    past_grace = make_order([courses[3]], expired_ago=GRACE + timedelta(seconds=20))

    output = run("expire_orders")

    for order in (open_order, just_expired, in_grace):
        assert status_of(order) == Order.Status.UNPAID
    assert status_of(past_grace) == Order.Status.TIMED_OUT
    assert closed_trades(alipay) == [past_grace.out_trade_no]
    assert "expire_orders: 1 order(s) timed out" in output


def test_paid_and_cancelled_orders_are_untouched(alipay, make_order, courses, user):
    old = timedelta(hours=1)
    paid = make_order([courses[0]], status=Order.Status.PAID, expired_ago=old)
    cancelled = make_order([courses[1]], status=Order.Status.CANCELLED, expired_ago=old)
    paid_before = Order.objects.get(pk=paid.pk)

    output = run("expire_orders")

    paid_after = Order.objects.get(pk=paid.pk)
    assert paid_after.order_status == Order.Status.PAID
    assert paid_after.updated_time == paid_before.updated_time
    assert status_of(cancelled) == Order.Status.CANCELLED
    assert closed_trades(alipay) == []
    assert CourseEntitlement.objects.filter(user=user).count() == 1
    assert "expire_orders: 0 order(s) timed out" in output


def test_an_order_alipay_reports_paid_becomes_paid_not_timed_out(alipay, make_order, courses, user):
    course = courses[0]
    order = make_order([course], expired_ago=timedelta(minutes=10))
    trade_no = alipay.pay(order.out_trade_no, order.total_amount)

    output = run("expire_orders")

    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert order.trade_no == trade_no
    assert order.pay_time is not None
    assert CourseEntitlement.objects.filter(user=user, course=course, order=order).count() == 1
    assert students(course) == 1
    assert closed_trades(alipay) == [order.out_trade_no]  # tried to close, Alipay said paid
    assert alipay.trades[order.out_trade_no]["trade_status"] == "TRADE_SUCCESS"
    assert "expire_orders: 0 order(s) timed out" in output
    assert f"timed out {order.out_trade_no}" not in output


def test_an_order_alipay_reports_paid_with_another_amount_times_out(alipay, make_order, courses):
    order = make_order([courses[0]], expired_ago=timedelta(minutes=10))
    alipay.pay(order.out_trade_no, "0.01")

    output = run("expire_orders")

    assert status_of(order) == Order.Status.TIMED_OUT
    assert not CourseEntitlement.objects.exists()
    assert "expire_orders: 1 order(s) timed out" in output


def test_running_expire_orders_twice_changes_nothing_more(alipay, make_order, courses):
    due = [make_order([c], expired_ago=timedelta(minutes=30)) for c in courses[:2]]
    paid_at_alipay = make_order([courses[2]], expired_ago=timedelta(minutes=30))
    alipay.pay(paid_at_alipay.out_trade_no, paid_at_alipay.total_amount)

    first = run("expire_orders")
    state = list(Order.objects.order_by("pk").values_list("pk", "order_status", "updated_time"))
    closes = len(alipay.requests_for("alipay.trade.close"))
    entitlements = CourseEntitlement.objects.count()
    second = run("expire_orders")

    assert "expire_orders: 2 order(s) timed out" in first
    assert [status_of(o) for o in due] == [Order.Status.TIMED_OUT] * 2
    assert status_of(paid_at_alipay) == Order.Status.PAID
    assert second.strip() == "expire_orders: 0 order(s) timed out"
    assert list(Order.objects.order_by("pk").values_list("pk", "order_status", "updated_time")) == (
        state
    )
    assert len(alipay.requests_for("alipay.trade.close")) == closes
    assert CourseEntitlement.objects.count() == entitlements == 1
    assert students(courses[2]) == 1


def test_expire_orders_respects_limit(alipay, make_order, courses):
    orders = [
        make_order([c], expired_ago=timedelta(minutes=60 - i)) for i, c in enumerate(courses[:3])
    ]

    output = run("expire_orders", "--limit", "2")

    # The longest overdue go first.
    assert [status_of(o) for o in orders] == [
        Order.Status.TIMED_OUT,
        Order.Status.TIMED_OUT,
        Order.Status.UNPAID,
    ]
    assert "expire_orders: 2 order(s) timed out" in output


# --- reconcile_orders ---------------------------------------------------------------------------


def test_recent_unsettled_orders_alipay_reports_paid_are_settled_once(
    alipay, make_order, courses, user
):
    unpaid = make_order([courses[0]], created_ago=timedelta(hours=2))
    cancelled = make_order([courses[1]], status=Order.Status.CANCELLED)
    timed_out = make_order(
        [courses[2]], status=Order.Status.TIMED_OUT, expired_ago=timedelta(hours=1)
    )
    waiting = make_order([courses[3]])
    trade_nos = {o.pk: alipay.pay(o.out_trade_no, o.total_amount) for o in (unpaid, cancelled)}
    trade_nos[timed_out.pk] = alipay.pay(
        timed_out.out_trade_no, timed_out.total_amount, status="TRADE_FINISHED"
    )
    alipay.add_trade(waiting.out_trade_no, waiting.total_amount)  # not paid yet

    first = run("reconcile_orders")
    second = run("reconcile_orders")

    for order in (unpaid, cancelled, timed_out):
        order.refresh_from_db()
        assert order.order_status == Order.Status.PAID
        assert order.trade_no == trade_nos[order.pk]
        assert order.pay_time is not None
        assert f"settled {order.out_trade_no}" in first
    assert status_of(waiting) == Order.Status.UNPAID
    assert first.splitlines()[-1] == "reconcile_orders: 3 order(s) settled"
    assert second.strip() == "reconcile_orders: 0 order(s) settled"
    for course in courses[:3]:
        assert CourseEntitlement.objects.filter(user=user, course=course).count() == 1
        assert students(course) == 1
    assert students(courses[3]) == 0
    assert CourseEntitlement.objects.count() == 3


def test_two_paid_orders_for_one_course_grant_it_once_and_refund_the_second(
    alipay, make_order, course, user
):
    """The first order was cancelled while Alipay could not close its trade, a second order
    was placed, and the buyer paid both: the course is granted once, the second is refunded."""
    first = make_order([course], created_ago=timedelta(minutes=20), status=Order.Status.CANCELLED)
    second = make_order([course], created_ago=timedelta(minutes=10))
    assert first.pk != second.pk
    for order in (first, second):
        alipay.pay(order.out_trade_no, order.total_amount)

    output = run("reconcile_orders")

    assert "reconcile_orders: 2 order(s) settled" in output  # the money was taken twice
    assert status_of(first) == Order.Status.PAID
    assert status_of(second) == Order.Status.REFUNDED
    [entitlement] = CourseEntitlement.objects.filter(user=user, course=course)
    assert entitlement.order_id == first.pk
    assert students(course) == 1
    [refund] = Refund.objects.filter(order=second)
    assert (refund.kind, refund.status, refund.amount) == (
        "duplicate",
        "succeeded",
        Decimal("99.90"),
    )
    assert alipay.refunded_total(second.out_trade_no) == Decimal("99.90")
    assert alipay.refunded_total(first.out_trade_no) == 0


def test_reconcile_leaves_orders_alipay_does_not_know_or_disputes(alipay, make_order, courses):
    unknown = make_order([courses[0]])
    wrong_amount = make_order([courses[1]])
    alipay.pay(wrong_amount.out_trade_no, "0.01")

    output = run("reconcile_orders")

    assert status_of(unknown) == Order.Status.UNPAID
    assert status_of(wrong_amount) == Order.Status.UNPAID
    assert not CourseEntitlement.objects.exists()
    assert "reconcile_orders: 0 order(s) settled" in output
    asked = {r["biz_content"]["out_trade_no"] for r in alipay.requests_for("alipay.trade.query")}
    assert asked == {unknown.out_trade_no, wrong_amount.out_trade_no}


def test_reconcile_ignores_orders_older_than_hours(alipay, make_order, courses):
    recent = make_order([courses[0]], created_ago=timedelta(hours=23))
    old = make_order([courses[1]], created_ago=timedelta(hours=30))
    for order in (recent, old):
        alipay.pay(order.out_trade_no, order.total_amount)

    output = run("reconcile_orders")

    assert status_of(recent) == Order.Status.PAID
    assert status_of(old) == Order.Status.UNPAID
    asked = [r["biz_content"]["out_trade_no"] for r in alipay.requests_for("alipay.trade.query")]
    assert asked == [recent.out_trade_no]
    assert "reconcile_orders: 1 order(s) settled" in output

    narrow = run("reconcile_orders", "--hours", "24")
    assert "reconcile_orders: 0 order(s) settled" in narrow
    assert status_of(old) == Order.Status.UNPAID

    wide = run("reconcile_orders", "--hours", "48")
    assert status_of(old) == Order.Status.PAID
    assert f"settled {old.out_trade_no}" in wide
    assert "reconcile_orders: 1 order(s) settled" in wide


@pytest.mark.parametrize("mode", ["http500", "garbage", "bad_sign"])
def test_reconcile_with_alipay_down_changes_nothing(alipay, make_order, courses, caplog, mode):
    orders = [make_order([c]) for c in courses[:2]]
    for order in orders:
        alipay.pay(order.out_trade_no, order.total_amount)
    alipay.mode = mode
    before = list(Order.objects.order_by("pk").values_list("order_status", "updated_time"))

    output, error = run_failing("reconcile_orders")  # exits 1: cron alerts

    assert output.strip() == "reconcile_orders: 0 order(s) settled"
    assert error.startswith("reconcile_orders: 2 trade queries failed")
    assert list(Order.objects.order_by("pk").values_list("order_status", "updated_time")) == before
    assert not CourseEntitlement.objects.exists()
    assert len(alipay.requests_for("alipay.trade.query")) == 2  # it tried each one
    assert "Trade query" in caplog.text


def test_reconcile_with_alipay_timing_out_changes_nothing(alipay, settings, make_order, courses):
    order = make_order([courses[0]])
    alipay.pay(order.out_trade_no, order.total_amount)
    settings.ALIPAY = replace(settings.ALIPAY, timeout_seconds=1)
    alipay.mode, alipay.delay = "slow", 2

    output, error = run_failing("reconcile_orders")

    assert output.strip() == "reconcile_orders: 0 order(s) settled"
    assert error.startswith("reconcile_orders: 1 trade query failed")
    assert status_of(order) == Order.Status.UNPAID


def test_reconcile_without_alipay_configured_fails_and_says_so(
    alipay, make_order, courses, request
):
    order = make_order([courses[0]])
    alipay.pay(order.out_trade_no, order.total_amount)
    request.getfixturevalue("no_alipay")

    output, error = run_failing("reconcile_orders")

    assert error == "reconcile_orders: Alipay is not configured, nothing to ask"
    assert output == ""
    assert status_of(order) == Order.Status.UNPAID
    assert alipay.requests == []


def test_reconcile_gives_up_after_three_failures_in_a_row(alipay, make_order, caplog):
    orders = [make_order([CourseFactory(price=Decimal("3.00"))]) for _ in range(6)]
    alipay.pay(orders[0].out_trade_no, orders[0].total_amount)
    alipay.mode = "http500"

    output, error = run_failing("reconcile_orders")
    assert output.strip() == "reconcile_orders: 0 order(s) settled"
    assert error.startswith("reconcile_orders: 3 trade queries failed")
    assert len(alipay.requests_for("alipay.trade.query")) == 3  # not 6
    assert "failed 3 times in a row: reconcile stops" in caplog.text

    alipay.mode = "ok"  # Alipay is back: the next run settles what it reports paid
    assert run("reconcile_orders").strip().endswith("reconcile_orders: 1 order(s) settled")
