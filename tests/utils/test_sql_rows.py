"""Rows read with hand-written SQL become the same instances the ORM builds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.order.models import Order
from tests.factories import OrderFactory
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
