"""Concurrent deliveries on a real MariaDB server: row locks make settlement happen once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.order.models import CourseEntitlement, Order, PaymentNotification
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


def test_two_orders_for_one_course_paid_at_once_grant_it_once(alipay, alipay_keys, place, user):
    course = CourseFactory(price=Decimal("10.00"))
    _, first = place([course], "10")
    _, second = place([course], "10")  # the buyer opened two cashier pages
    notifies = iter([signed_notify(alipay_keys, first), signed_notify(alipay_keys, second)])
    lock = threading.Lock()

    def deliver() -> bytes:
        with lock:
            params = next(notifies)
        return post_form(APIClient(), params).content

    assert run_together(2, deliver) == [b"success", b"success"]
    assert Order.objects.filter(order_status=Order.Status.PAID).count() == 2
    assert CourseEntitlement.objects.filter(user=user, course=course).count() == 1
    course.refresh_from_db()
    assert course.students == 1


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
