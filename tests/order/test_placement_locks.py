"""Placement reads what the buyer owns under the buyer's row lock (MariaDB: real row locks)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.order import services
from apps.order.models import CourseEntitlement, Order
from apps.order.services.locks import lock_for_grant
from tests.factories import CourseFactory

from .conftest import PAY_URL

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


def test_a_course_granted_while_the_placement_waits_for_the_buyer_is_refused(
    alipay, user, auth_client
):
    course = CourseFactory(price=Decimal("9.90"))
    token = auth_client._credentials["HTTP_AUTHORIZATION"]
    holding = threading.Event()

    def grant() -> None:  # what a notify's grant does: the buyer's lock, then the entitlement
        try:
            with transaction.atomic():
                lock_for_grant(user.pk, [course.pk])
                holding.set()
                time.sleep(0.6)  # the placement is waiting for the buyer's row meanwhile
                CourseEntitlement.objects.create(user=user, course=course)
        finally:
            connections.close_all()

    def place() -> tuple[int, str]:
        try:
            assert holding.wait(timeout=30)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=token)
            response = client.post(
                PAY_URL, {"courses": [course.pk], "total_amount": "9.90"}, format="json"
            )
            return response.status_code, response.json()["msg"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        granting, placing = pool.submit(grant), pool.submit(place)
        granting.result(timeout=60)
        status, msg = placing.result(timeout=60)

    assert status == 409, msg
    assert course.name in msg
    assert not Order.objects.exists()


def test_the_buyers_lock_is_the_placements_first_statement_and_ownership_is_read_after_it(
    alipay, auth_client
):
    course = CourseFactory(price=Decimal("9.90"))
    with CaptureQueriesContext(connection) as captured:
        response = auth_client.post(
            PAY_URL, {"courses": [course.pk], "total_amount": "9.90"}, format="json"
        )
    assert response.status_code == 201
    sqls = [q["sql"] for q in captured.captured_queries]
    locking = [s for s in sqls if s.endswith("FOR UPDATE")]
    assert len(locking) == 1 and "FROM `luffy_user`" in locking[0], sqls
    lock = sqls.index(locking[0])
    assert sqls[lock - 1].startswith("BEGIN"), sqls  # the prices were read before, unlocked
    owned = next(i for i, s in enumerate(sqls) if "FROM `luffy_user_course`" in s)
    opened = next(i for i, s in enumerate(sqls) if "FROM `luffy_order`" in s)
    assert lock < owned < opened, sqls


def test_an_order_committed_while_the_placement_waits_for_the_buyer_is_handed_out_again(
    alipay, user, auth_client
):
    """The open orders are read after the buyer's lock: a placement that held the lock has
    committed its order by then, and the waiting one hands it out."""
    course = CourseFactory(price=Decimal("9.90"))
    token = auth_client._credentials["HTTP_AUTHORIZATION"]
    holding = threading.Event()

    def place_while_holding() -> str:  # another placement of this buyer, slow to commit
        try:
            with transaction.atomic():
                lock_for_grant(user.pk, [])
                holding.set()
                time.sleep(0.6)  # the placement below is waiting for the buyer's row meanwhile
                placed = services.place_order(
                    buyer=user, course_ids=[course.pk], total_amount=Decimal("9.90")
                )
            return placed.order.out_trade_no
        finally:
            connections.close_all()

    def place() -> tuple[int, dict]:
        try:
            assert holding.wait(timeout=30)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=token)
            response = client.post(
                PAY_URL, {"courses": [course.pk], "total_amount": "9.90"}, format="json"
            )
            return response.status_code, response.json()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.submit(place_while_holding), pool.submit(place)
        out_trade_no = first.result(timeout=60)
        status, body = second.result(timeout=60)

    assert status == 200, body
    assert body["out_trade_no"] == out_trade_no
    assert Order.objects.count() == 1
