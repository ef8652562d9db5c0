"""Placement's statements in batches (utils/db/batch.py) return and write what the same
statements return and write one by one (apps/order/services/sql.py, apps/course/pricing.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from apps.course import pricing
from apps.order.models import CourseEntitlement, Order, OrderDetail
from apps.order.services import sql
from tests.factories import CourseFactory, OrderFactory, OrderLineFactory, UserFactory
from utils.db import batch

pytestmark = pytest.mark.django_db(transaction=True)


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_reads_placement_batches_return_what_each_function_returns_alone():
    buyer = UserFactory()
    owned, open_one, other = (
        CourseFactory(price=Decimal("10.10")),
        CourseFactory(price=Decimal("0.20"), discount_price=Decimal("0.10")),
        CourseFactory(price=Decimal("99.00")),
    )
    now = timezone.now()
    type(other).objects.filter(pk=other.pk).update(
        discount_start=now - timedelta(days=1), discount_end=now + timedelta(days=1)
    )
    CourseEntitlement.objects.create(user=buyer, course=owned)
    newer, older = OrderFactory(user=buyer), OrderFactory(user=buyer)
    Order.objects.filter(pk=older.pk).update(created_time=now - timedelta(minutes=5))
    for order in (newer, older):
        OrderLineFactory(order=order, course=open_one)
    OrderFactory(user=buyer, paid=True)  # not open
    ids = [other.pk, open_one.pk, owned.pk, 10**9]  # one that does not exist

    with transaction.atomic():
        prices, locked, opened = batch.run(
            [
                pricing.priced_statement(ids, now=now),
                sql.lock_user_and_owned_statement(buyer.pk, ids),
                sql.open_orders_statement(user_id=buyer.pk, course_ids=ids),
            ]
        )
        alone = (
            pricing.priced_on_sale(ids, now=now),
            sql.lock_user_and_owned(buyer.pk, ids),
            sql.open_orders(user_id=buyer.pk, course_ids=ids),
        )

    assert pricing.priced_from_rows(prices.rows) == alone[0]
    assert sorted(alone[0]) == sorted([other.pk, open_one.pk, owned.pk])
    assert sql.owned_from_rows(locked.rows) == alone[1] == {owned.pk}
    orders = sql.orders_from_rows(opened.rows)
    assert [_fields(o) for o in orders] == [_fields(o) for o in alone[2]]
    assert [o.pk for o in orders] == [newer.pk, older.pk]
    assert [(o._state.adding, o._state.db) for o in orders] == [(False, "default")] * 2
    # A buyer without entitlements: the outer join's single row of NULL is no course.
    assert (
        sql.owned_from_rows(
            batch.run([sql.lock_user_and_owned_statement(UserFactory().pk, ids)])[0].rows
        )
        == set()
    )


EXPIRES_AT = timezone.now() + timedelta(minutes=30)


def _new_order(buyer, out_trade_no: str, subject: str = "路飞 100% 'quoted'") -> Order:
    return Order(
        user=buyer,
        subject=subject,
        total_amount=Decimal("9.90"),
        out_trade_no=out_trade_no,
        expires_at=EXPIRES_AT,
    )


def test_an_order_and_its_lines_inserted_together_are_what_insert_row_and_insert_lines_write():
    """MariaDB: one request, the lines reading the order's new id (LAST_INSERT_ID(), the same on
    every row); SQLite: the two statements one by one."""
    buyer = UserFactory()
    cheap, dear = CourseFactory(price=Decimal("0.01")), CourseFactory(price=Decimal("99999999.99"))
    lines = [
        (dear.pk, Decimal("99999999.99"), Decimal("12345678.90")),
        (cheap.pk, Decimal("0.01"), Decimal("0")),
    ]
    OrderLineFactory()  # another order's line first: the new ids differ from the order's
    one_by_one, together = _new_order(buyer, "A" * 36), _new_order(buyer, "B" * 36)

    with transaction.atomic():
        sql.insert_row(one_by_one)
        sql.insert_lines(order_id=one_by_one.pk, lines=lines)
        sql.insert_order_and_lines(together, lines=lines)

    stored = Order.objects.get(out_trade_no="B" * 36)
    assert together.pk == stored.pk != one_by_one.pk
    assert (together._state.adding, together._state.db) == (False, stored._state.db)
    fields = [f.attname for f in Order._meta.concrete_fields if not f.primary_key]
    ignore = {"out_trade_no", "created_time", "updated_time"}
    assert {f: getattr(together, f) for f in fields if f not in ignore} == {
        f: getattr(one_by_one, f) for f in fields if f not in ignore
    }
    assert _fields(together) == _fields(stored)

    def written(order: Order) -> list[tuple]:
        rows = OrderDetail.objects.filter(order=order).order_by("pk")
        return list(rows.values_list("course_id", "price", "real_price"))

    assert (
        written(together)
        == written(one_by_one)
        == [
            (dear.pk, Decimal("99999999.99"), Decimal("12345678.90")),
            (cheap.pk, Decimal("0.01"), Decimal("0.00")),
        ]
    )
    assert OrderDetail.objects.count() == 5


def test_a_placement_whose_last_request_fails_writes_nothing_and_answers_as_before(
    alipay, auth_client, user, monkeypatch
):
    """The order's INSERTs go with the COMMIT on MariaDB: when a line fails (here a course
    deleted meanwhile: its foreign key), the COMMIT does not run, nothing is kept, and the
    error reaches the client as any database error does (the envelope's 500)."""
    course = CourseFactory(price=Decimal("9.90"))
    real = sql.insert_order_and_lines

    def with_a_vanished_course(order, *, lines, commit=False):
        return real(order, lines=[*lines, (10**9, Decimal("0"), Decimal("0"))], commit=commit)

    monkeypatch.setattr(sql, "insert_order_and_lines", with_a_vanished_course)
    response = auth_client.post(
        "/api/v1/order/pay/", {"courses": [course.pk], "total_amount": "9.90"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (500, 500)
    assert not Order.objects.exists() and not OrderDetail.objects.exists()
    monkeypatch.setattr(sql, "insert_order_and_lines", real)
    response = auth_client.post(
        "/api/v1/order/pay/", {"courses": [course.pk], "total_amount": "9.90"}, format="json"
    )
    assert response.status_code == 201
    assert Order.objects.get().lines.get().course_id == course.pk
