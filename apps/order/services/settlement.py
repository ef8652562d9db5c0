"""Settling a payment exactly once, closing unpaid trades, and asking Alipay about orders.

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

from apps.course import documents
from libs import iPay
from utils.db import batch
from utils.db.batch import Result, Statement
from utils.logging import get_logger

from ..models import Order, Refund
from . import refunds, sql
from .errors import SettlementRejected
from .locks import lock_for_grant

logger = get_logger("order")

RECONCILE_GIVE_UP_AFTER = 3  # consecutive failed trade queries


class OrderChangedSinceRead(Exception):
    """settle_checked found the order changed since check_payment read it (another delivery
    settled it, a timeout, a close). Nothing was written, but the buyer's and courses' rows are
    locked: the caller rolls its transaction back, then settles with settle_under_lock."""


class Settlement(StrEnum):
    SETTLED = "settled"
    SETTLED_LATE = "settled_late"  # the order had been cancelled or timed out: reopened as paid
    DUPLICATE = "duplicate"  # already paid: nothing changes (a second trade is refunded)


def _grant_courses(order: Order, course_ids: list[int] | None = None) -> list[int]:
    """Give the buyer the order's courses they do not own yet; count them as students.

    Returns the courses the buyer already owned: paid twice, to be refunded. Its statements are
    written as SQL (`sql`): building them through the ORM cost more CPU than the database took.
    `course_ids`: the order's lines when the caller read them already (they never change).
    """
    # Its own read, not a join in the locking statement: a join would lock the courses in the
    # order of the order's lines, and lock_for_grant's promise is id order (no deadlocks).
    if course_ids is None:
        course_ids = sql.order_course_ids(order.pk)
    lock_for_grant(order.user_id, course_ids)
    if not course_ids:
        return []
    owned = sql.owned_course_ids(order.user_id, course_ids)
    new_ids = [pk for pk in course_ids if pk not in owned]
    if new_ids:
        batch.run(_grant_statements(order, new_ids))
    return sorted(owned)


def _grant_statements(order: Order, new_ids: list[int]) -> list[Statement]:
    """The grant's writes, in one batch (one round trip on MariaDB): the entitlements, the
    students counters, and the course documents emptied (the detail shows `students`; same
    commit). Run after lock_for_grant, so the foreign-key checks find the rows locked."""
    return [
        sql.insert_entitlements_statement(
            user_id=order.user_id, order_id=order.pk, course_ids=new_ids, now=timezone.now()
        ),
        sql.add_student_statement(new_ids),
        *documents.invalidate_statements(new_ids),
    ]


def mark_paid_and_grant(order: Order, *, trade_no: str, paid_at: datetime) -> list[int]:
    """Mark a locked order paid and grant its courses; returns the courses already owned."""
    _set_paid(order, trade_no=trade_no, paid_at=paid_at)
    sql.mark_paid(order)
    return _grant_courses(order)


def _set_paid(order: Order, *, trade_no: str, paid_at: datetime) -> None:
    """The paid state on the instance, which sql.mark_paid* statements write."""
    order.order_status = Order.Status.PAID
    order.trade_no = trade_no
    order.pay_time = paid_at
    order.updated_time = timezone.now()  # auto_now: what save(update_fields=...) would set


@dataclass(frozen=True)
class SettledPayment:
    """What settle_under_lock did; finish_settlement acts on it once the transaction committed."""

    out_trade_no: str
    trade_no: str
    result: Settlement
    refund: Refund | None  # to send to Alipay after the commit
    # What settle_checked's `with_grant` statement returned; None when it did not run.
    with_grant: Result | None = None


def settle_under_lock(
    out_trade_no: str, *, trade_no: str, total_amount: Decimal, paid_at: datetime | None
) -> SettledPayment:
    """settle_payment's work, inside the caller's transaction (the notify commits its log entry
    with it). Locks the order, then its buyer and courses, as every state change does.

    Raises SettlementRejected (unknown order, another amount) before anything is written, so
    the caller's transaction stays usable. The caller must commit, then call finish_settlement.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("settle_under_lock runs inside transaction.atomic()")
    order = sql.locked_order(out_trade_no)
    if order is None:
        raise SettlementRejected(f"unknown order {out_trade_no!r}")
    if total_amount != order.total_amount:
        raise SettlementRejected(
            f"amount {total_amount} does not match order total {order.total_amount}"
        )
    refund: Refund | None = None
    if order.is_paid:
        if trade_no and order.trade_no and trade_no != order.trade_no:
            logger.error(
                "Order %s paid twice: trades %s and %s; refunding the second",
                out_trade_no,
                order.trade_no,
                trade_no,
            )
            refund = refunds.open_second_trade_refund(order, trade_no=trade_no)
        return SettledPayment(out_trade_no, trade_no, Settlement.DUPLICATE, refund)
    late = order.order_status != Order.Status.UNPAID
    # Only the late case logs it; the display looks the label up through gettext (~0.07 ms).
    previous = order.get_order_status_display() if late else ""
    owned = mark_paid_and_grant(order, trade_no=trade_no, paid_at=paid_at or timezone.now())
    return _granted(order, trade_no=trade_no, owned=owned, late=late, previous=previous)


def _granted(
    order: Order,
    *,
    trade_no: str,
    owned: list[int],
    late: bool,
    previous: str,
    with_grant: Result | None = None,
) -> SettledPayment:
    """The end of a settlement that marked the order paid: refund what the buyer owned."""
    out_trade_no = order.out_trade_no
    refund: Refund | None = None
    if owned:
        logger.error(
            "Order %s paid for courses %s the user already owned: refunding them",
            out_trade_no,
            owned,
        )
        refund = refunds.open_owned_courses_refund(order, course_ids=owned)
    if not late:
        return SettledPayment(out_trade_no, trade_no, Settlement.SETTLED, refund, with_grant)
    logger.warning(
        "Payment for %s order %s accepted: order reopened as paid", previous, out_trade_no
    )
    return SettledPayment(out_trade_no, trade_no, Settlement.SETTLED_LATE, refund, with_grant)


@dataclass(frozen=True)
class UnsettledOrder:
    """An order check_payment read without a lock: not paid yet, or paid by another trade."""

    order: Order
    course_ids: list[int]  # its lines' courses

    @property
    def settles_as(self) -> Settlement | None:
        """What settle_checked returns when it marks the order paid itself (the only case in
        which it runs its `with_grant` statement); None when another trade paid the order."""
        if self.order.is_paid:
            return None
        late = self.order.order_status != Order.Status.UNPAID
        return Settlement.SETTLED_LATE if late else Settlement.SETTLED


def check_payment(
    out_trade_no: str, *, trade_no: str, total_amount: Decimal
) -> SettledPayment | UnsettledOrder:
    """The notify's first read: the order and its lines' courses, without a lock, outside any
    transaction. Raises SettlementRejected (unknown order, another amount).

    Returns a DUPLICATE SettledPayment when this trade already paid the order: the redelivery
    Alipay sends until it reads `success` has nothing to write but its log entry. That answer
    needs no lock because what it reads never changes back: a paid order stays paid (refunds
    move it to other paid states), its trade_no and amount are written once, and nothing
    deletes orders. Anything else is an UnsettledOrder for settle_checked, in a transaction.
    """
    found = sql.order_and_course_ids(out_trade_no)
    if found is None:
        raise SettlementRejected(f"unknown order {out_trade_no!r}")
    order, course_ids = found
    if total_amount != order.total_amount:
        raise SettlementRejected(
            f"amount {total_amount} does not match order total {order.total_amount}"
        )
    if order.is_paid and not (trade_no and order.trade_no and trade_no != order.trade_no):
        return SettledPayment(out_trade_no, trade_no, Settlement.DUPLICATE, None)
    return UnsettledOrder(order, course_ids)


def settle_checked(
    unsettled: UnsettledOrder,
    *,
    trade_no: str,
    paid_at: datetime | None,
    with_grant: Statement | None = None,
    commit_with_grant: bool = False,
) -> SettledPayment:
    """settle_under_lock for an order check_payment read, inside the caller's transaction.

    The UPDATE that marks the order paid is also what locks it (before the buyer and the
    courses, the order every state change locks in), on condition that its status is still the
    one read; the lines read with it stand (they never change). It goes to MariaDB with the
    buyer's and courses' locks and the owned courses' read in one round trip, and the grant's
    writes in another (utils/db/batch.py): the same statements as settle_under_lock's grant.
    When the status changed since the read (another delivery settled it, a timeout, a close),
    it raises OrderChangedSinceRead before writing anything: the caller rolls back and calls
    settle_under_lock in a new transaction. When another trade paid the order,
    settle_under_lock does everything under the lock here. The caller commits, then calls
    finish_settlement.

    `with_grant`: the caller's own statement (the notify's log entry), sent after the grant's
    writes in their round trip, only when the order was marked paid here (the result is then
    `unsettled.settles_as`); its result comes back in `SettledPayment.with_grant`. When it
    fails, the DatabaseError names it (`batch_statement`) and the caller's transaction rolls
    back with the grant.

    `commit_with_grant`: `with_grant` is the last statement of the caller's transaction, so its
    COMMIT goes in the grant's round trip (batch.run(commit=True); in an outermost atomic block
    on MariaDB, else the block commits as usual) when nothing is written after the grant: no
    refund to open for courses the buyer owned. The caller then sends no statement before its
    block ends (TransactionManagementError).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("settle_checked runs inside transaction.atomic()")
    order = unsettled.order
    read_status = order.order_status
    settles_as = unsettled.settles_as  # None: another trade paid it
    if settles_as is not None:
        late = settles_as is Settlement.SETTLED_LATE
        # Only the late case logs it; the display looks the label up through gettext (~0.07 ms).
        previous = order.get_order_status_display() if late else ""
        _set_paid(order, trade_no=trade_no, paid_at=paid_at or timezone.now())
        owned = _mark_paid_and_lock(order, read_status=read_status, course_ids=unsettled.course_ids)
        new_ids = [pk for pk in unsettled.course_ids if pk not in owned]
        grant = _grant_statements(order, new_ids) if new_ids else []
        if with_grant is not None:
            grant.append(with_grant)
        # With owned courses a Refund row follows (_granted): the block commits it all itself.
        commit = commit_with_grant and with_grant is not None and not owned
        results = batch.run(grant, commit=commit) if grant else []
        return _granted(
            order,
            trade_no=trade_no,
            owned=sorted(owned),
            late=late,
            previous=previous,
            with_grant=results[-1] if with_grant is not None else None,
        )
    return settle_under_lock(
        order.out_trade_no, trade_no=trade_no, total_amount=order.total_amount, paid_at=paid_at
    )


def _mark_paid_and_lock(order: Order, *, read_status: int, course_ids: list[int]) -> set[int]:
    """One batch (one round trip on MariaDB): the UPDATE that marks the order paid while its
    status is still `read_status` (and locks it), the buyer's lock, the courses' locks in id
    order, and which of them the buyer owns: lock_for_grant and owned_course_ids, in the order
    _grant_courses takes them. Returns the owned courses.

    A batch cannot skip its locks when the UPDATE matches nothing: then the buyer and courses
    are locked without the order, against the order → buyer → courses rule. Nothing is written
    yet, so OrderChangedSinceRead asks the caller to roll the whole transaction back (InnoDB
    releases row locks only at its end, not at a savepoint) before it locks the order.
    """
    results = batch.run(_mark_paid_and_lock_statements(order, read_status, course_ids))
    if results[0].rowcount != 1:
        raise OrderChangedSinceRead(order.out_trade_no)
    return {row[0] for row in results[3].rows} if len(results) > 2 else set()


def _mark_paid_and_lock_statements(
    order: Order, read_status: int, course_ids: list[int]
) -> list[Statement]:
    """_mark_paid_and_lock's batch: the conditional UPDATE, the buyer's lock, and (when the
    order has courses) the courses' locks in id order and the owned courses' read."""
    ids = sorted(set(course_ids))
    statements = [
        sql.mark_paid_if_status_statement(order, status=read_status),
        sql.lock_user_statement(order.user_id),
    ]
    if ids:
        statements += [sql.lock_courses_statement(ids), sql.owned_statement(order.user_id, ids)]
    return statements


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
        order.order_status = Order.Status.CANCELLED
        order.save(update_fields=["order_status", "updated_time"])
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
