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


def test_lines_that_find_their_order_by_out_trade_no_are_the_lines_insert_lines_writes():
    first, second = OrderFactory(), OrderFactory()
    cheap, dear = CourseFactory(price=Decimal("0.01")), CourseFactory(price=Decimal("99999999.99"))
    lines = [
        (dear.pk, Decimal("99999999.99"), Decimal("12345678.90")),
        (cheap.pk, Decimal("0.01"), Decimal("0")),
    ]

    with transaction.atomic():
        sql.insert_lines(order_id=first.pk, lines=lines)
        [result] = batch.run(
            [sql.insert_lines_statement(out_trade_no=second.out_trade_no, lines=lines)]
        )

    assert result.rowcount == 2

    def written(order: Order) -> list[tuple]:
        rows = OrderDetail.objects.filter(order=order).order_by("pk")
        return list(rows.values_list("course_id", "price", "real_price"))

    assert (
        written(second)
        == written(first)
        == [
            (dear.pk, Decimal("99999999.99"), Decimal("12345678.90")),
            (cheap.pk, Decimal("0.01"), Decimal("0.00")),
        ]
    )
    assert OrderDetail.objects.count() == 4


def test_an_order_and_its_lines_in_one_batch_read_back_as_the_orm_writes_them():
    """What placement sends: the order's INSERT, then its lines finding the new id."""
    buyer, course = UserFactory(), CourseFactory(price=Decimal("9.90"))
    now = timezone.now()
    order = Order(
        user=buyer,
        subject="路飞 100% 'quoted'",
        total_amount=Decimal("9.90"),
        out_trade_no="20261126000000000000" + "ab" * 8,
        expires_at=now + timedelta(minutes=30),
    )
    with transaction.atomic():
        inserted, lines = batch.run(
            [
                sql.insert_row_statement(order),
                sql.insert_lines_statement(
                    out_trade_no=order.out_trade_no,
                    lines=[(course.pk, Decimal("9.90"), Decimal("9.90"))],
                ),
            ]
        )
        sql.inserted(order, inserted.lastrowid)

    stored = Order.objects.get(out_trade_no=order.out_trade_no)
    assert order.pk == stored.pk and lines.rowcount == 1
    assert _fields(order) == _fields(stored)
    assert list(stored.lines.values_list("course_id", "real_price")) == [
        (course.pk, Decimal("9.90"))
    ]
