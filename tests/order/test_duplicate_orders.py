"""No double charge: one open order per course and buyer, and money for owned courses goes back."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.order import services
from apps.order.models import CourseEntitlement, Order, Refund
from tests.factories import CourseFactory
from tests.support.alipay import random_trade_no

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_course(db):
    return CourseFactory(price=Decimal("10.00"))


def biz_of(pay_url: str) -> dict:
    query = parse_qs(urlsplit(pay_url).query)
    return json.loads(query["biz_content"][0])


def status_of(order: Order) -> int:
    order.refresh_from_db()
    return order.order_status


def test_placing_the_same_courses_again_returns_the_open_order_for_the_same_trade(
    alipay, place, course
):
    first, order = place([course], "99.90")
    again, same = place([course], "99.90")

    assert first.status_code == 201
    assert again.status_code == 200 and again.json()["code"] == first.json()["code"]
    assert same.pk == order.pk and Order.objects.count() == 1
    one, two = biz_of(first.json()["pay_url"]), biz_of(again.json()["pay_url"])
    assert one["out_trade_no"] == two["out_trade_no"] == order.out_trade_no
    assert one["total_amount"] == two["total_amount"] == "99.90"
    assert one["time_expire"] == two["time_expire"]
    assert alipay.requests_for("alipay.trade.close") == []


def test_an_overlapping_order_closes_and_cancels_the_older_one_first(
    alipay, place, course, other_course
):
    _, older = place([course], "99.90")
    alipay.add_trade(older.out_trade_no, older.total_amount)  # the buyer opened the cashier

    response, newer = place([course, other_course], "109.90")

    assert response.status_code == 201 and newer.pk != older.pk
    assert status_of(older) == Order.Status.CANCELLED
    [close] = alipay.requests_for("alipay.trade.close")
    assert close["biz_content"]["out_trade_no"] == older.out_trade_no
    assert alipay.trades[older.out_trade_no]["trade_status"] == "TRADE_CLOSED"
    assert status_of(newer) == Order.Status.UNPAID


def test_the_same_courses_at_a_new_price_replace_the_open_order(alipay, place, course):
    _, older = place([course], "99.90")
    course.price = Decimal("88.00")
    course.save()

    response, newer = place([course], "88.00")

    assert response.status_code == 201 and newer.pk != older.pk
    assert status_of(older) == Order.Status.CANCELLED


def test_an_older_order_found_paid_while_closing_is_settled_and_the_new_one_refused(
    alipay, place, course, other_course, user
):
    _, older = place([course], "99.90")
    alipay.pay(older.out_trade_no, older.total_amount)  # paid a moment ago, notify not here yet

    response, newer = place([course, other_course], "109.90")

    assert response.status_code == 409 and response.json()["code"] == 409
    assert newer is None and Order.objects.count() == 1
    assert status_of(older) == Order.Status.PAID
    assert CourseEntitlement.objects.filter(user=user, course=course, order=older).exists()


def test_an_older_order_alipay_cannot_close_now_refuses_the_new_one_and_changes_nothing(
    alipay, place, course, other_course
):
    _, older = place([course], "99.90")
    alipay.mode = "http500"

    response, newer = place([course, other_course], "109.90")

    assert response.status_code == 503 and response.json()["code"] == 503
    assert newer is None and Order.objects.count() == 1
    assert status_of(older) == Order.Status.UNPAID


def test_late_payment_for_a_cancelled_order_whose_course_was_bought_meanwhile_is_refunded(
    alipay, place, auth_client, send_notify, course, user
):
    _, cancelled = place([course], "99.90")
    auth_client.post(f"/api/v1/order/{cancelled.out_trade_no}/cancel/")
    assert status_of(cancelled) == Order.Status.CANCELLED
    _, bought = place([course], "99.90")
    assert send_notify(bought).content == b"success"
    # The first trade was paid after all (its close could not reach Alipay), and reported late.
    late_trade = alipay.pay(cancelled.out_trade_no, cancelled.total_amount)

    response = send_notify(cancelled, trade_no=late_trade)

    assert response.content == b"success"
    [entitlement] = CourseEntitlement.objects.filter(user=user, course=course)
    assert entitlement.order_id == bought.pk
    [refund] = Refund.objects.all()
    assert (refund.order_id, refund.kind, refund.status) == (cancelled.pk, "duplicate", "succeeded")
    assert refund.reason == "重复购买自动退款" and refund.amount == Decimal("99.90")
    assert alipay.refunded_total(cancelled.out_trade_no) == Decimal("99.90")
    assert status_of(cancelled) == Order.Status.REFUNDED
    assert status_of(bought) == Order.Status.PAID
    course.refresh_from_db()
    assert course.students == 1


def test_a_second_trade_for_a_paid_order_is_refunded_once_however_often_it_is_notified(
    alipay, place, send_notify, course, user
):
    _, order = place([course], "99.90")
    first = alipay.pay(order.out_trade_no, order.total_amount)
    assert send_notify(order, trade_no=first).content == b"success"
    second = random_trade_no()
    # Alipay knows the second trade by its trade_no; we refund it by trade_no.
    alipay.add_trade(
        f"second-{order.out_trade_no}", "99.90", status="TRADE_SUCCESS", trade_no=second
    )

    for _ in range(3):
        assert send_notify(order, trade_no=second).content == b"success"

    [refund] = Refund.objects.all()
    assert (refund.trade_no, refund.status, refund.amount) == (
        second,
        "succeeded",
        Decimal("99.90"),
    )
    assert refund.reason == "重复支付自动退款"
    calls = alipay.requests_for("alipay.trade.refund")
    assert [c["biz_content"].get("trade_no") for c in calls] == [second]
    assert alipay.refunded_total(f"second-{order.out_trade_no}") == Decimal("99.90")
    assert alipay.refunded_total(order.out_trade_no) == 0
    order.refresh_from_db()
    assert (order.order_status, order.trade_no) == (Order.Status.PAID, first)
    assert CourseEntitlement.objects.filter(user=user, course=course, order=order).exists()


def test_an_automatic_refund_alipay_cannot_take_now_is_finished_by_reconcile(
    alipay, make_order, course, user
):
    first = make_order([course], status=Order.Status.CANCELLED)
    second = make_order([course], status=Order.Status.PAID)
    trade = alipay.pay(first.out_trade_no, first.total_amount)
    alipay.mode = "http500"

    result = services.settle_payment(
        first.out_trade_no, trade_no=trade, total_amount=first.total_amount, paid_at=None
    )

    assert result is services.Settlement.SETTLED_LATE
    [refund] = Refund.objects.all()
    assert refund.status == Refund.Status.PENDING  # recorded with the settlement: not forgotten
    alipay.mode = "ok"
    Refund.objects.update(created_at=refund.created_at.replace(year=2025))
    call_command("reconcile_orders", stdout=StringIO())
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert alipay.refunded_total(first.out_trade_no) == Decimal("99.90")
    assert status_of(first) == Order.Status.REFUNDED
    assert CourseEntitlement.objects.get(user=user, course=course).order_id == second.pk


def test_an_open_order_about_to_expire_is_replaced_not_handed_out_again(alipay, place, course):
    _, older = place([course], "99.90")
    Order.objects.filter(pk=older.pk).update(expires_at=timezone.now() + timedelta(minutes=1))

    response, newer = place([course], "99.90")

    assert response.status_code == 201 and newer.pk != older.pk
    assert status_of(older) == Order.Status.CANCELLED
