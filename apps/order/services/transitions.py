"""The one table of allowed order status changes: from which status to which, and who may do it.

Every write of `Order.order_status` goes through `change_status`, as django-oscar's order
pipeline does; a change the table does not list raises IllegalTransition (a bug, not bad input:
the services check what they may do before they ask). Call it with the order's row locked.
"""

from __future__ import annotations

from enum import StrEnum

from apps.coupon import services as coupons

from ..models import Order

Status = Order.Status


class Actor(StrEnum):
    """Who changes an order's status (a service, or the case of one)."""

    PAYMENT = "payment"  # settlement: Alipay took the money (notify, return page, reconcile)
    FREE_ORDER = "free_order"  # placement: nothing to pay, the courses are given at once
    BUYER = "buyer"  # the buyer cancels, or places another order for the same courses
    STAFF = "staff"  # staff cancel an unpaid order in the admin
    ALIPAY_CLOSE = "alipay_close"  # Alipay reports the trade closed
    EXPIRY = "expiry"  # the expire_orders job: the pay window passed
    REFUND = "refund"  # a refund succeeded (staff, double payment, Alipay's console)


TRANSITIONS: dict[tuple[Status, Status], frozenset[Actor]] = {
    (Status.UNPAID, Status.PAID): frozenset({Actor.PAYMENT, Actor.FREE_ORDER}),
    # A payment that arrives late still buys the courses: the order is reopened as paid.
    (Status.CANCELLED, Status.PAID): frozenset({Actor.PAYMENT}),
    (Status.TIMED_OUT, Status.PAID): frozenset({Actor.PAYMENT}),
    (Status.UNPAID, Status.CANCELLED): frozenset({Actor.BUYER, Actor.STAFF, Actor.ALIPAY_CLOSE}),
    (Status.UNPAID, Status.TIMED_OUT): frozenset({Actor.EXPIRY}),
    (Status.PAID, Status.PARTLY_REFUNDED): frozenset({Actor.REFUND}),
    (Status.PAID, Status.REFUNDED): frozenset({Actor.REFUND}),
    (Status.PARTLY_REFUNDED, Status.REFUNDED): frozenset({Actor.REFUND}),
}


# What entering a status does besides the status: the coupon an unpaid order holds is used by
# its payment and comes back when it is cancelled or times out (a refund keeps it used).
ON_ENTER = {
    Status.PAID: coupons.consume_coupon,
    Status.CANCELLED: coupons.release_coupon,
    Status.TIMED_OUT: coupons.release_coupon,
}


class IllegalTransition(Exception):
    """A status change the table does not allow (or not to this actor)."""


def can_change(order: Order, to: Status, *, by: Actor) -> bool:
    return by in TRANSITIONS.get((Status(order.order_status), to), frozenset())


def change_status(order: Order, to: Status, *, by: Actor, **fields: object) -> None:
    """Move a locked order to `to` and save it, with `fields` (trade_no, pay_time…) set too,
    then do what entering `to` does (ON_ENTER: the order's coupon).

    Raises IllegalTransition when the table does not allow the change to `by`.
    """
    if not can_change(order, to, by=by):
        raise IllegalTransition(
            f"order {order.out_trade_no}: {Status(order.order_status).name} -> {to.name}"
            f" is not allowed to {by}"
        )
    order.order_status = to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["order_status", *fields, "updated_time"])
    if to in ON_ENTER:
        ON_ENTER[to](order.pk)
