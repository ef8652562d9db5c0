"""Concurrent deliveries and placements on a real MariaDB server: row locks make settlement
happen once and leave one open order per course and buyer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.order.models import CourseEntitlement, Order, OrderDetail, PaymentNotification, Refund
from tests.factories import CourseFactory

from .conftest import post_form, signed_notify

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


def run_together(count: int, work) -> list:
    """Run `work()` in `count` threads released at the same instant; each uses its own
    database connection, closed at the end."""
    barrier = threading.Barrier(count)

    def task():
        try:
            barrier.wait(timeout=30)
            return work()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [f.result(timeout=120) for f in [pool.submit(task) for _ in range(count)]]


def test_twenty_concurrent_deliveries_settle_once(alipay, alipay_keys, place, user):
    assert connection.vendor == "mysql"
    courses = CourseFactory.create_batch(2, price=Decimal("50.00"))
    _, order = place(courses, "100")
    params = signed_notify(alipay_keys, order, trade_no="2026112522001400000000000020")

    answers = run_together(20, lambda: post_form(APIClient(), params).content)

    assert answers == [b"success"] * 20
    order.refresh_from_db()
    assert order.order_status == Order.Status.PAID
    assert CourseEntitlement.objects.filter(user=user).count() == 2
    for course in courses:
        course.refresh_from_db()
        assert course.students == 1
    outcomes = list(PaymentNotification.objects.values_list("outcome", flat=True))
    assert sorted(outcomes) == ["duplicate"] * 19 + ["settled"]


def test_two_orders_for_one_course_paid_at_once_grant_it_once_and_refund_the_other(
    alipay, alipay_keys, place, user
):
    course = CourseFactory(price=Decimal("10.00"))
    _, first = place([course], "10")
    # Cancelled while Alipay could not close its trade, so its cashier page still took money.
    Order.objects.filter(pk=first.pk).update(order_status=Order.Status.CANCELLED)
    _, second = place([course], "10")
    notifies = iter(
        [
            signed_notify(alipay_keys, order, trade_no=alipay.pay(order.out_trade_no, "10"))
            for order in (first, second)
        ]
    )
    lock = threading.Lock()

    def deliver() -> bytes:
        with lock:
            params = next(notifies)
        return post_form(APIClient(), params).content

    assert run_together(2, deliver) == [b"success", b"success"]
    [entitlement] = CourseEntitlement.objects.filter(user=user, course=course)
    statuses = dict(Order.objects.values_list("pk", "order_status"))
    refunded = first if entitlement.order_id == second.pk else second
    assert statuses[entitlement.order_id] == Order.Status.PAID
    assert statuses[refunded.pk] == Order.Status.REFUNDED
    [refund] = Refund.objects.all()
    assert (refund.order_id, refund.status) == (refunded.pk, Refund.Status.SUCCEEDED)
    assert alipay.refunded_total(refunded.out_trade_no) == Decimal("10.00")
    course.refresh_from_db()
    assert course.students == 1


def test_concurrent_placements_of_one_course_by_one_buyer_make_one_order(alipay, user, auth_client):
    course = CourseFactory(price=Decimal("9.90"))
    token = auth_client._credentials["HTTP_AUTHORIZATION"]

    def place() -> tuple[int, str]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        body = {"courses": [course.pk], "total_amount": "9.90"}
        response = client.post("/api/v1/order/pay/", body, format="json")
        return response.status_code, response.json().get("out_trade_no")

    answers = run_together(8, place)

    assert sorted(code for code, _ in answers) == [200] * 7 + [201]
    assert len({no for _, no in answers}) == 1
    assert Order.objects.count() == 1


def test_concurrent_overlapping_placements_leave_one_open_order_per_course(
    alipay, user, auth_client
):
    a, b, c = CourseFactory.create_batch(3, price=Decimal("5.00"))
    baskets = iter([[a], [a, b], [b, c], [c], [a, c], [a, b, c]])
    token = auth_client._credentials["HTTP_AUTHORIZATION"]
    lock = threading.Lock()

    def place() -> int:
        with lock:
            basket = next(baskets)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        total = str(Decimal("5.00") * len(basket))
        body = {"courses": [x.pk for x in basket], "total_amount": total}
        return client.post("/api/v1/order/pay/", body, format="json").status_code

    answers = run_together(6, place)

    assert set(answers) <= {200, 201, 409}, answers
    open_lines = list(
        OrderDetail.objects.filter(order__order_status=Order.Status.UNPAID).values_list(
            "course_id", flat=True
        )
    )
    assert len(open_lines) == len(set(open_lines))  # no course in two open orders
    closed = {r["biz_content"]["out_trade_no"] for r in alipay.requests_for("alipay.trade.close")}
    cancelled = set(
        Order.objects.filter(order_status=Order.Status.CANCELLED).values_list(
            "out_trade_no", flat=True
        )
    )
    assert cancelled <= closed  # every replaced order's trade was closed at Alipay first


def test_concurrent_orders_do_not_collide(alipay, user, auth_client):
    courses = CourseFactory.create_batch(10, price=Decimal("9.90"))
    it = iter(courses)
    lock = threading.Lock()

    def order_one() -> int:
        with lock:
            course = next(it)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=auth_client._credentials["HTTP_AUTHORIZATION"])
        body = {"courses": [course.pk], "total_amount": "9.90"}
        return client.post("/api/v1/order/pay/", body, format="json").status_code

    assert run_together(10, order_one) == [201] * 10
    assert Order.objects.values("out_trade_no").distinct().count() == 10
