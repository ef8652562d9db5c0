"""Settling a payment exactly once, closing unpaid trades, and asking Alipay about orders.

One path settles every payment (a notify, the return page, the reconcile job): inside one
`transaction.atomic()` it locks the order's row, decides, marks the order paid, grants its
courses, and the caller logs what it did in the same transaction.

Money that arrives for courses the buyer already owns (two orders paid, a late payment, a second
trade for a paid order) is refunded automatically: every payment ends as goods or a refund.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from django.db import DatabaseError, transaction
from django.utils import timezone

from libs import iPay
from utils.logging import get_logger

from ..models import Order, Refund
from . import grants, refunds
from .errors import SettlementRejected
from .transitions import Actor, change_status

logger = get_logger("order")

RECONCILE_GIVE_UP_AFTER = 3  # consecutive failed trade queries


class Settlement(StrEnum):
    SETTLED = "settled"
    SETTLED_LATE = "settled_late"  # the order had been cancelled or timed out: reopened as paid
    DUPLICATE = "duplicate"  # already paid: nothing changes (a second trade is refunded)


@dataclass(frozen=True)
class SettledPayment:
    """What settle_under_lock did; finish_settlement acts on it once the transaction committed."""

    out_trade_no: str
    trade_no: str
    result: Settlement
    refund: Refund | None  # to send to Alipay after the commit


def mark_paid_and_grant(order: Order, *, trade_no: str, paid_at: datetime) -> list[int]:
    """Mark a locked order paid by Alipay's payment and grant its courses; returns the courses
    already owned."""
    change_status(order, Order.Status.PAID, by=Actor.PAYMENT, trade_no=trade_no, pay_time=paid_at)
    course_ids = order.lines.values_list("course_id", flat=True)
    return grants.grant_courses(order.user_id, course_ids, order=order)


def is_redelivery(out_trade_no: str, *, trade_no: str, total_amount: Decimal) -> bool:
    """True when this trade already paid this order, for this amount: settle_under_lock would
    answer DUPLICATE and write nothing, so the notify Alipay delivers again until it reads
    `success` needs neither a lock nor a transaction.

    Safe without a lock because what it reads never changes back: a paid order stays paid
    (refunds move it to other paid states), and its trade_no and amount are written once.
    """
    order = (
        Order.objects.filter(out_trade_no=out_trade_no)
        .only("order_status", "trade_no", "total_amount")
        .first()
    )
    if order is None or order.total_amount != total_amount or not order.is_paid:
        return False
    return not _another_trade(order, trade_no)


def _another_trade(order: Order, trade_no: str) -> bool:
    return bool(trade_no and order.trade_no and trade_no != order.trade_no)


def settle_under_lock(
    out_trade_no: str, *, trade_no: str, total_amount: Decimal, paid_at: datetime | None
) -> SettledPayment:
    """settle_payment's work, inside the caller's transaction (the notify commits its log entry
    with it). Locks the order, then its buyer and courses (grants.grant_courses), as every
    state change does: a notify, the return page, the reconcile job, a cancel and a refund of
    the same order take turns.

    Raises SettlementRejected (unknown order, another amount) before anything is written. The
    caller must commit, then call finish_settlement.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("settle_under_lock runs inside transaction.atomic()")
    order = Order.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
    if order is None:
        raise SettlementRejected(f"unknown order {out_trade_no!r}")
    if total_amount != order.total_amount:
        raise SettlementRejected(
            f"amount {total_amount} does not match order total {order.total_amount}"
        )
    if order.is_paid:
        return _paid_again(order, trade_no=trade_no)
    previous = order.get_order_status_display()
    late = order.order_status != Order.Status.UNPAID
    owned = mark_paid_and_grant(order, trade_no=trade_no, paid_at=paid_at or timezone.now())
    refund: Refund | None = None
    if owned:
        logger.error(
            "Order %s paid for courses %s the user already owned: refunding them",
            out_trade_no,
            owned,
        )
        refund = refunds.open_owned_courses_refund(order, course_ids=owned)
    if not late:
        return SettledPayment(out_trade_no, trade_no, Settlement.SETTLED, refund)
    logger.warning(
        "Payment for %s order %s accepted: order reopened as paid", previous, out_trade_no
    )
    return SettledPayment(out_trade_no, trade_no, Settlement.SETTLED_LATE, refund)


def _paid_again(order: Order, *, trade_no: str) -> SettledPayment:
    """A payment report for a paid order: nothing changes, a second trade is refunded whole."""
    refund: Refund | None = None
    if _another_trade(order, trade_no):
        logger.error(
            "Order %s paid twice: trades %s and %s; refunding the second",
            order.out_trade_no,
            order.trade_no,
            trade_no,
        )
        refund = refunds.open_second_trade_refund(order, trade_no=trade_no)
    return SettledPayment(order.out_trade_no, trade_no, Settlement.DUPLICATE, refund)


def finish_settlement(settled: SettledPayment, *, log_paid: bool = True) -> Settlement:
    """After the commit: send the refund a settlement opened (a network call, never under the
    lock; a crash before it leaves the Refund pending for `reconcile_orders`). `log_paid`:
    False when the caller logs the payment itself (the notify's one line names the trade)."""
    if settled.refund is not None:
        refunds.send_refund(settled.refund)
    if log_paid and settled.result is Settlement.SETTLED:
        logger.info("Order %s paid (trade %s)", settled.out_trade_no, settled.trade_no)
    return settled.result


def settle_payment(
    out_trade_no: str, *, trade_no: str, total_amount: Decimal, paid_at: datetime | None
) -> Settlement:
    """Record that Alipay received the payment of an order; grant its courses once.

    Raises SettlementRejected for an unknown order or a different amount. Courses the buyer
    already owned, and a second trade for a paid order, are refunded through Alipay after the
    commit (the Refund row is written in the same transaction, so a crash leaves it pending for
    `reconcile_orders` to finish).
    """
    with transaction.atomic():
        settled = settle_under_lock(
            out_trade_no, trade_no=trade_no, total_amount=total_amount, paid_at=paid_at
        )
    return finish_settlement(settled)


def mark_closed(out_trade_no: str, total_amount: Decimal | None = None) -> bool:
    """Alipay closed the trade: an unpaid order becomes cancelled. True if it changed."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        if order is None:
            raise SettlementRejected(f"unknown order {out_trade_no!r}")
        if total_amount is not None and total_amount != order.total_amount:
            raise SettlementRejected("amount does not match the order")
        if order.order_status != Order.Status.UNPAID:
            return False
        change_status(order, Order.Status.CANCELLED, by=Actor.ALIPAY_CLOSE)
    logger.info("Order %s cancelled: Alipay closed its trade", out_trade_no)
    return True


def settle_if_alipay_paid(order: Order) -> Order:
    """Ask Alipay about an unsettled order and settle it if paid. Raises AlipayUnavailable."""
    trade = iPay.get_client().query_trade(order.out_trade_no)
    if trade is not None and trade.is_paid:
        try:
            settle_payment(
                order.out_trade_no,
                trade_no=trade.trade_no,
                total_amount=trade.total_amount,
                paid_at=trade.paid_at,
            )
        except SettlementRejected as exc:
            logger.error("Alipay reports %s paid but: %s", order.out_trade_no, exc)
        except DatabaseError:
            # Nothing was written (one transaction); the notify or the next check settles it.
            logger.exception("Settling %s after a trade query failed", order.out_trade_no)
            return order
        order.refresh_from_db()
    return order


def refresh_from_alipay(order: Order) -> Order:
    """Ask Alipay whether an unsettled order was paid, and settle it if so.

    For shops that never receive notifies (firewalls) and for the pay-success page. Alipay being
    unreachable or confused is logged and changes nothing.
    """
    if order.is_paid or not iPay.is_configured():
        return order
    try:
        return settle_if_alipay_paid(order)
    except iPay.AlipayUnavailable as exc:
        logger.warning("Trade query for %s failed: %s", order.out_trade_no, exc)
        return order


@dataclass
class Reconciliation:
    """What one reconcile run did: orders settled, and orders Alipay could not be asked about."""

    settled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def reconcile_orders(since: datetime, limit: int = 500) -> Reconciliation:
    """Ask Alipay about recent orders not marked paid; settle those it says are paid."""
    unsettled = [Order.Status.UNPAID, Order.Status.CANCELLED, Order.Status.TIMED_OUT]
    pending = Order.objects.filter(
        order_status__in=unsettled, created_time__gte=since, total_amount__gt=0
    )
    result = Reconciliation()
    failures_in_a_row = 0
    for order in pending.order_by("created_time")[:limit]:
        try:
            if settle_if_alipay_paid(order).is_paid:
                result.settled.append(order.out_trade_no)
            failures_in_a_row = 0
        except iPay.AlipayUnavailable as exc:
            logger.warning("Trade query for %s failed: %s", order.out_trade_no, exc)
            result.failed.append(order.out_trade_no)
            failures_in_a_row += 1
            if failures_in_a_row >= RECONCILE_GIVE_UP_AFTER:
                # Alipay is down: waiting out a timeout per order would outlast the cron period.
                logger.warning(
                    "Alipay failed %d times in a row: reconcile stops", failures_in_a_row
                )
                break
    return result
