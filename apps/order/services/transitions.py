"""The one table of allowed order status changes: from which status to which, and who may do it.

Every write of `Order.order_status` goes through `change_status`, as django-oscar's order
pipeline does; a change the table does not list raises IllegalTransition (a bug, not bad input:
the services check what they may do before they ask). Call it with the order's row locked.
"""

from __future__ import annotations

from enum import StrEnum

from django.dispatch import Signal

from ..models import Order

Status = Order.Status


class Actor(StrEnum):
    """Who changes an order's status (a service, or the case of one)."""

    PAYMENT = "payment"  # settlement: Alipay took the money (notify, return page, reconcile)
    BUYER = "buyer"  # the buyer cancels, or places another order for the same courses
    STAFF = "staff"  # staff cancel an unpaid order in the admin
    ALIPAY_CLOSE = "alipay_close"  # Alipay reports the trade closed
    EXPIRY = "expiry"  # the expire_orders job: the pay window passed
    REFUND = "refund"  # a refund succeeded (staff, double payment, Alipay's console)


TRANSITIONS: dict[tuple[Status, Status], frozenset[Actor]] = {
    (Status.UNPAID, Status.PAID): frozenset({Actor.PAYMENT}),
    # A payment that arrives late still buys the courses: the order is reopened as paid.
    (Status.CANCELLED, Status.PAID): frozenset({Actor.PAYMENT}),
    (Status.TIMED_OUT, Status.PAID): frozenset({Actor.PAYMENT}),
    (Status.UNPAID, Status.CANCELLED): frozenset({Actor.BUYER, Actor.STAFF, Actor.ALIPAY_CLOSE}),
    (Status.UNPAID, Status.TIMED_OUT): frozenset({Actor.EXPIRY}),
    (Status.PAID, Status.PARTLY_REFUNDED): frozenset({Actor.REFUND}),
    (Status.PAID, Status.REFUNDED): frozenset({Actor.REFUND}),
    (Status.PARTLY_REFUNDED, Status.REFUNDED): frozenset({Actor.REFUND}),
}


# Sent after every change, inside the caller's transaction (the order's row lock held), with
# `order`, `previous` (a Status) and `by`: what an order holds follows it (a flash-sale seat, a
# coupon: apps/promotion and apps/coupon connect in their AppConfig.ready). The order app knows
# none of them.
status_changed = Signal()


class IllegalTransition(Exception):
    """A status change the table does not allow (or not to this actor)."""


def can_change(order: Order, to: Status, *, by: Actor) -> bool:
    return by in TRANSITIONS.get((Status(order.order_status), to), frozenset())


def change_status(order: Order, to: Status, *, by: Actor, **fields: object) -> None:
    """Move a locked order to `to` and save it, with `fields` (trade_no, pay_time…) set too,
    then tell `status_changed`'s receivers (what the order holds follows it).

    Raises IllegalTransition when the table does not allow the change to `by`.
    """
    if not can_change(order, to, by=by):
        raise IllegalTransition(
            f"order {order.out_trade_no}: {Status(order.order_status).name} -> {to.name}"
            f" is not allowed to {by}"
        )
    previous = Status(order.order_status)
    order.order_status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["order_status", *fields, "updated_time"])
    status_changed.send(sender=Order, order=order, previous=previous, by=by)
