"""The order status table: the changes it lists are made, any other raises and writes nothing."""

from __future__ import annotations

import itertools

import pytest

from apps.order.models import Order
from apps.order.services import TRANSITIONS, Actor, IllegalTransition, change_status
from tests.factories import OrderFactory

Status = Order.Status
pytestmark = pytest.mark.django_db


def order_in(status: Status) -> Order:
    order = OrderFactory()
    Order.objects.filter(pk=order.pk).update(order_status=status)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize(
    ("before", "after", "by"),
    [(a, b, by) for (a, b), actors in TRANSITIONS.items() for by in sorted(actors)],
)
def test_each_listed_change_is_made_and_saved(before, after, by):
    order = order_in(before)
    change_status(order, after, by=by)
    order.refresh_from_db()
    assert order.order_status == after


@pytest.mark.parametrize(
    ("before", "after"),
    [pair for pair in itertools.permutations(Status, 2) if pair not in TRANSITIONS],
)
def test_a_change_the_table_does_not_list_raises_and_writes_nothing(before, after):
    order = order_in(before)
    with pytest.raises(IllegalTransition):
        change_status(order, after, by=Actor.PAYMENT)
    order.refresh_from_db()
    assert order.order_status == before


def test_a_listed_change_by_another_actor_raises_and_writes_nothing():
    order = order_in(Status.UNPAID)
    for by in (Actor.EXPIRY, Actor.REFUND, Actor.ALIPAY_CLOSE):
        with pytest.raises(IllegalTransition, match="UNPAID -> PAID"):
            change_status(order, Status.PAID, by=by)
    order.refresh_from_db()
    assert order.order_status == Status.UNPAID
    with pytest.raises(IllegalTransition):
        change_status(order, Status.TIMED_OUT, by=Actor.BUYER)  # only expiry times orders out


def test_a_paid_order_never_goes_back_to_unpaid_and_a_refunded_one_stays_refunded():
    paid = {Status.PAID, Status.PARTLY_REFUNDED, Status.REFUNDED}
    assert [(a, b) for a, b in TRANSITIONS if a in paid and b not in paid] == []
    assert [b for a, b in TRANSITIONS if a == Status.REFUNDED] == []


def test_the_fields_written_with_the_status_are_saved_with_it():
    order = order_in(Status.UNPAID)
    change_status(order, Status.PAID, by=Actor.PAYMENT, trade_no="2026112522001400000000000001")
    order.refresh_from_db()
    assert (order.order_status, order.trade_no) == (Status.PAID, "2026112522001400000000000001")
