"""Refunds: staff refunds of whole orders or lines, automatic refunds of double payments, and
refunds made in Alipay's console reported by notify.

A refund is first written as a pending `Refund` with its own out_request_no, then sent to Alipay.
An unknown outcome (timeout, garbled answer) is resolved by asking Alipay about that same
out_request_no, and a retry reuses it, so Alipay can never refund one request twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from apps.user.models import User
from libs import iPay
from utils.exceptions import Conflict
from utils.logging import get_logger

from ..models import Order, OrderDetail, Refund
from . import grants
from .errors import SettlementRejected
from .transitions import Actor, change_status

logger = get_logger("order.refunds")

OWNED_COURSES_REASON = "重复购买自动退款"
SECOND_TRADE_REASON = "重复支付自动退款"
CONSOLE_REASON = "支付宝后台退款"
_ZERO = Decimal("0.00")


class AlipayRefundOutcome(StrEnum):
    RECORDED = "recorded"  # a refund we did not know of: recorded, courses taken back
    CONFIRMED = "confirmed"  # one of ours, pending until now
    KNOWN = "known"  # nothing new (a redelivered notify)


def new_out_request_no() -> str:
    """Unique per refund, time-ordered: R + 20 digits of time + 12 hex digits."""
    return f"R{timezone.localtime():%Y%m%d%H%M%S%f}{secrets.token_hex(6)}"


def _refunded_line_ids(order: Order) -> set[int]:
    """Lines of the order's own payment already refunded or being refunded."""
    return set(
        OrderDetail.objects.filter(
            refunds__order=order,
            refunds__revokes_courses=True,
            refunds__status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED],
        ).values_list("pk", flat=True)
    )


def _open_refund(
    order: Order,
    lines: list[OrderDetail],
    *,
    kind: str,
    reason: str,
    staff: User | None = None,
    trade_no: str = "",
    amount: Decimal | None = None,
    out_request_no: str = "",
    revokes_courses: bool = True,
) -> Refund:
    """A pending refund of `lines` (amount: their real prices). Call with the order locked."""
    refund = Refund.objects.create(
        order=order,
        kind=kind,
        trade_no=trade_no or order.trade_no,
        amount=sum((line.real_price for line in lines), _ZERO) if amount is None else amount,
        reason=reason[:256],
        staff=staff,
        out_request_no=out_request_no or new_out_request_no(),
        revokes_courses=revokes_courses,
    )
    refund.lines.set(lines)
    return refund


def open_owned_courses_refund(order: Order, *, course_ids: Iterable[int]) -> Refund:
    """The order was paid for courses its buyer already owned: refund those lines."""
    lines = list(order.lines.filter(course_id__in=list(course_ids)))
    return _open_refund(order, lines, kind=Refund.Kind.DUPLICATE, reason=OWNED_COURSES_REASON)


def open_second_trade_refund(order: Order, *, trade_no: str) -> Refund | None:
    """A paid order was paid again through another trade: refund that trade whole, once.

    Returns the refund to send (again, if still pending), or None when it is already done.
    """
    existing = order.refunds.filter(trade_no=trade_no).first()
    if existing is not None:
        return existing if existing.status == Refund.Status.PENDING else None
    return _open_refund(
        order,
        list(order.lines.all()),
        kind=Refund.Kind.DUPLICATE,
        reason=SECOND_TRADE_REASON,
        trade_no=trade_no,
        amount=order.total_amount,
        revokes_courses=False,
    )


def refund_order(
    order: Order,
    *,
    lines: Iterable[OrderDetail] | None = None,
    reason: str,
    staff: User | None,
) -> Refund:
    """Refund a paid order, whole (`lines=None`) or the chosen lines, and take their courses back.

    Raises Conflict (not paid, lines already refunded) or ValidationError (no reason, lines of
    another order). Returns the Refund: succeeded, failed (Alipay refused; nothing changed), or
    pending (Alipay could not be asked; `reconcile_orders` finishes it with the same number).
    """
    reason = (reason or "").strip()
    if not reason:
        raise exceptions.ValidationError({"reason": [_("请填写退款原因")]})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if not locked.is_paid:
            raise Conflict(
                _("订单%(status)s,无法退款") % {"status": locked.get_order_status_display()}
            )
        chosen = _chosen_lines(locked, lines)
        refund = _open_refund(locked, chosen, kind=Refund.Kind.STAFF, reason=reason, staff=staff)
    logger.info(
        "Refund %s of %s yuan for order %s opened by %s",
        refund.out_request_no,
        refund.amount,
        locked.out_trade_no,
        staff.pk if staff else "system",
    )
    return send_refund(refund)


def _chosen_lines(order: Order, lines: Iterable[OrderDetail] | None) -> list[OrderDetail]:
    """The locked order's lines to refund: those asked for (None: every line not refunded yet).
    Raises ValidationError (lines of another order) or Conflict (already refunded, none left)."""
    all_lines = list(order.lines.all())
    done = _refunded_line_ids(order)
    if lines is None:
        chosen = [line for line in all_lines if line.pk not in done]
    else:
        wanted = {line.pk for line in lines}
        chosen = [line for line in all_lines if line.pk in wanted]
        if len(chosen) != len(wanted):
            raise exceptions.ValidationError({"lines": [_("所选课程不属于该订单")]})
        if wanted & done:
            raise Conflict(_("所选课程已退款或正在退款"))
    if not chosen:
        raise Conflict(_("该订单已没有可退款的课程"))
    return chosen


def send_refund(refund: Refund) -> Refund:
    """Ask Alipay to carry out a pending refund; record the answer. Never raises for Alipay."""
    if refund.amount == 0:  # free lines: nothing to send back, only the courses
        return _finish(refund, succeeded=True, answer={"note": "nothing to pay back"})
    try:
        client = iPay.get_client()
    except iPay.PaymentNotConfigured:
        logger.error("Refund %s stays pending: Alipay is not configured", refund.out_request_no)
        return refund
    order = refund.order
    second_trade = refund.trade_no if not refund.revokes_courses else ""
    try:
        result = client.refund(
            order.out_trade_no,
            amount=refund.amount,
            out_request_no=refund.out_request_no,
            reason=refund.reason,
            trade_no=second_trade,
        )
    except iPay.AlipayUnavailable as exc:
        logger.warning("Refund %s: outcome unknown (%s)", refund.out_request_no, exc)
        return _ask_about(client, refund)
    if not result.definitive:
        logger.warning("Refund %s: Alipay answered %s", refund.out_request_no, result.code)
        return _ask_about(client, refund)
    return _finish(refund, succeeded=result.succeeded, answer=result.answer)


def _ask_about(client: iPay.AlipayClient, refund: Refund) -> Refund:
    """Resolve an unknown outcome with the refund query; never by refunding under a new number."""
    try:
        result = client.query_refund(
            refund.order.out_trade_no,
            out_request_no=refund.out_request_no,
            trade_no=refund.trade_no if not refund.revokes_courses else "",
        )
    except iPay.AlipayUnavailable as exc:
        logger.warning("Refund %s stays pending: %s", refund.out_request_no, exc)
        return refund
    if result.succeeded:
        return _finish(refund, succeeded=True, answer=result.answer)
    # Alipay never got it: it stays pending and the next `reconcile_orders` sends it again.
    Refund.objects.filter(pk=refund.pk).update(alipay_answer=result.answer)
    return refund


def resolve_pending_refunds(*, older_than_seconds: int = 60, limit: int = 100) -> list[Refund]:
    """Finish refunds left pending (timeouts, crashes): ask Alipay, send again if it never got
    them. Same out_request_no each time, so nothing is ever refunded twice."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = Refund.objects.filter(status=Refund.Status.PENDING, created_at__lt=cutoff)
    finished = []
    try:
        client = iPay.get_client()
    except iPay.PaymentNotConfigured:
        return finished
    for refund in pending.select_related("order").order_by("created_at")[:limit]:
        if refund.amount:
            refund = _ask_about(client, refund)
        if refund.status == Refund.Status.PENDING:
            refund = send_refund(refund)  # Alipay never got it (or free lines): same number
        if refund.status != Refund.Status.PENDING:
            finished.append(refund)
    return finished


def _finish(refund: Refund, *, succeeded: bool, answer: dict) -> Refund:
    """Record Alipay's final answer; on success take the courses back. Locks the order first,
    like settlement, so a notify settling or refunding the same order waits for us."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=refund.order_id)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != Refund.Status.PENDING:
            return locked
        locked.status = Refund.Status.SUCCEEDED if succeeded else Refund.Status.FAILED
        locked.alipay_answer = answer
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "alipay_answer", "finished_at"])
        if succeeded and locked.revokes_courses:
            grants.revoke_courses(order, [line.course_id for line in locked.lines.all()])
            _update_refund_status(order)
    log = logger.info if succeeded else logger.error
    log("Refund %s %s", locked.out_request_no, locked.status)
    return locked


def _update_refund_status(order: Order) -> None:
    """已退款 when every line (or the whole amount) went back, else 部分退款."""
    done = order.refunds.filter(status=Refund.Status.SUCCEEDED, revokes_courses=True)
    refunded = sum(done.values_list("amount", flat=True), _ZERO)
    line_ids = set(order.lines.values_list("pk", flat=True))
    refunded_lines = set(done.values_list("lines", flat=True))
    if line_ids <= refunded_lines or (order.total_amount > 0 and refunded >= order.total_amount):
        status = Order.Status.REFUNDED
    elif refunded > 0 or refunded_lines:
        status = Order.Status.PARTLY_REFUNDED
    else:
        return
    if order.order_status != status:
        change_status(order, status, by=Actor.REFUND)


def _lines_for_amount(lines: list[OrderDetail], amount: Decimal) -> list[OrderDetail] | None:
    """Lines whose prices add up to exactly `amount` (a console refund names no lines)."""
    reachable: dict[Decimal, list[OrderDetail]] = {_ZERO: []}
    for line in lines:
        for total, chosen in list(reachable.items()):
            new_total = total + line.real_price
            if new_total <= amount and new_total not in reachable:
                reachable[new_total] = [*chosen, line]
    return reachable.get(amount)


def _console_refund_lines(order: Order, amount: Decimal, *, full: bool) -> list[OrderDetail]:
    """The lines a console refund pays back: every line left after a full refund, else the
    lines whose prices add up to its amount (none when nothing matches: staff decide)."""
    done = _refunded_line_ids(order)
    open_lines = [line for line in order.lines.all() if line.pk not in done]
    if full:
        return open_lines
    lines = _lines_for_amount(open_lines, amount)
    if not lines:
        logger.error(
            "Console refund of %s on %s matches no lines: no course taken back",
            amount,
            order.out_trade_no,
        )
    return lines or []


def record_alipay_refund(trade: iPay.TradeStatus) -> AlipayRefundOutcome:
    """A notify says money went back (refund_fee = the trade's refunded total so far).

    Ours and pending: confirmed. Unknown (made in Alipay's console): recorded as a refund of
    the lines it pays for, whose courses are taken back (none for a second trade of a paid
    order). Raises SettlementRejected for an order that is not ours or another amount.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(out_trade_no=trade.out_trade_no).first()
        if order is None:
            raise SettlementRejected(f"unknown order {trade.out_trade_no!r}")
        if trade.total_amount != order.total_amount:
            raise SettlementRejected("amount does not match the order")
        so_far = _RefundedSoFar.of(order, trade)
        confirmed = _confirm_ours(order, trade, so_far)
        if confirmed is not None:
            return confirmed
        # Pending refunds of ours are left to reconcile_orders (the refund query knows).
        console_amount = so_far.new_money - so_far.pending_total
        if console_amount <= 0 or not order.is_paid:
            return AlipayRefundOutcome.KNOWN
        _record_console_refund(order, trade, console_amount, second_trade=so_far.second_trade)
    logger.warning(
        "Refund of %s on %s made in Alipay's console", console_amount, order.out_trade_no
    )
    return AlipayRefundOutcome.RECORDED


@dataclass(frozen=True)
class _RefundedSoFar:
    """The refunds we know of on the trade a refund notify names, against its refund_fee."""

    second_trade: bool  # the notify is about a second trade that paid the order again
    pending: list[Refund]
    new_money: Decimal  # refund_fee minus what our succeeded refunds sent back already

    @property
    def pending_total(self) -> Decimal:
        return sum((r.amount for r in self.pending), _ZERO)

    @classmethod
    def of(cls, order: Order, trade: iPay.TradeStatus) -> _RefundedSoFar:
        second_trade = bool(order.trade_no and trade.trade_no and trade.trade_no != order.trade_no)
        if second_trade:
            known = list(order.refunds.filter(trade_no=trade.trade_no))
        else:
            known = list(order.refunds.filter(revokes_courses=True))
        succeeded = sum((r.amount for r in known if r.status == Refund.Status.SUCCEEDED), _ZERO)
        return cls(
            second_trade=second_trade,
            pending=[r for r in known if r.status == Refund.Status.PENDING],
            new_money=(trade.refund_fee or _ZERO) - succeeded,
        )


def _confirm_ours(
    order: Order, trade: iPay.TradeStatus, so_far: _RefundedSoFar
) -> AlipayRefundOutcome | None:
    """CONFIRMED when the notify reports refunds of ours (pending until now), KNOWN when it
    names one already finished, None when the money is not (all) ours."""
    answer = {"notify_id": trade.notify_id}
    ours = None
    if trade.refund_request_no:
        ours = order.refunds.filter(out_request_no=trade.refund_request_no).first()
    if ours is not None:
        if ours.status != Refund.Status.PENDING:
            return AlipayRefundOutcome.KNOWN
        _finish(ours, succeeded=True, answer=answer)
        return AlipayRefundOutcome.CONFIRMED
    if so_far.pending and so_far.new_money == so_far.pending_total:  # answers that were lost
        for refund in so_far.pending:
            _finish(refund, succeeded=True, answer=answer)
        return AlipayRefundOutcome.CONFIRMED
    return None


def _record_console_refund(
    order: Order, trade: iPay.TradeStatus, amount: Decimal, *, second_trade: bool
) -> None:
    """Record a refund made in Alipay's console as succeeded, taking back the courses of the
    lines it pays for (none for a second trade: the order's own payment still stands)."""
    lines = []
    if not second_trade:
        full = (trade.refund_fee or _ZERO) >= order.total_amount
        lines = _console_refund_lines(order, amount, full=full)
    refund = _open_refund(
        order,
        lines,
        kind=Refund.Kind.CONSOLE,
        reason=CONSOLE_REASON,
        trade_no=trade.trade_no,
        amount=amount,
        out_request_no=(trade.refund_request_no or new_out_request_no())[:64],
        revokes_courses=not second_trade,
    )
    _finish(refund, succeeded=True, answer={"notify_id": trade.notify_id})
