"""Rows read with hand-written SQL become the same instances the ORM builds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.order.models import Order
from apps.order.services import sql
from tests.factories import OrderFactory, OrderLineFactory
from utils import sql_rows

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_orders_read_by_sql_equal_the_orms_field_by_field():
    unpaid = OrderFactory(total_amount=Decimal("0.10"))
    paid = OrderFactory(paid=True, pay_time=timezone.now() - timedelta(minutes=3))
    table = connection.ops.quote_name(Order._meta.db_table)
    statement = f"SELECT {sql_rows.columns(Order)} FROM {table} ORDER BY 1"  # noqa: S608

    read = sql_rows.fetch(Order, statement, [])

    orm = list(Order.objects.order_by("pk"))
    assert [_fields(o) for o in read] == [_fields(o) for o in orm]
    assert [o.pk for o in read] == [unpaid.pk, paid.pk]
    for order in read:
        assert order._state.adding is False and order._state.db == connection.alias
        assert type(order.total_amount) is Decimal and timezone.is_aware(order.created_time)
    assert read[0].pay_time is None and timezone.is_aware(read[1].pay_time)


def test_open_orders_are_whole_orders_newest_first():
    older = OrderFactory()
    newer = OrderFactory(user=older.user)
    OrderFactory(user=older.user, paid=True)  # paid: not open
    for order in (older, newer):
        OrderLineFactory(order=order)

    found = sql.open_orders(
        user_id=older.user_id, course_ids=[line.course_id for line in older.lines.all()]
    )

    assert [_fields(o) for o in found] == [_fields(Order.objects.get(pk=older.pk))]
    lines = [line.course_id for o in (older, newer) for line in o.lines.all()]
    found = sql.open_orders(user_id=older.user_id, course_ids=lines)
    assert [o.pk for o in found] == [newer.pk, older.pk]
    assert [_fields(o) for o in found] == [_fields(Order.objects.get(pk=o.pk)) for o in found]
