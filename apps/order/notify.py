"""Alipay's asynchronous notify: check it through libs.iPay, log it, act through the services.

Answer `success` only when the notify was processed now or before; anything else makes Alipay
deliver it again (about 8 times over 25 hours), which is what we want when we could not act.
The log is bounded: a notify whose signature does not verify (anyone can post one) leaves a
summary of a few hundred bytes, never its body; verified notifies are kept whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction

from libs import iPay
from utils.logging import get_logger

from . import services
from .models import PAID_STATES, Order, PaymentNotification

logger = get_logger("order.notify")
Outcome = PaymentNotification.Outcome

# Bounds of a rejected notify's summary: enough to find the order and the sender.
SUMMARY_OUT_TRADE_NO = 40
SUMMARY_DETAIL = 200
BODY_BYTES_MAX = 2**31 - 1  # a claimed Content-Length may be anything; the column is an int


@dataclass(frozen=True)
class NotifyResult:
    accepted: bool  # answer `success`
    outcome: str
    detail: str = ""
    verified: bool = False
    # Worth a retry by Alipay (our fault: database down, not configured) vs. bad input.
    temporary: bool = False


def _rejected(detail: str, verified: bool = False) -> NotifyResult:
    return NotifyResult(False, Outcome.REJECTED, detail, verified)


def _unavailable() -> NotifyResult:
    """The log could not be written: Alipay must deliver it again."""
    logger.exception("Cannot log an Alipay notify: database unavailable")
    return NotifyResult(False, Outcome.ERROR, "database unavailable", True, temporary=True)


def _on_paid(trade: iPay.TradeStatus, entry: PaymentNotification) -> NotifyResult:
    """A paid notify (nearly all of them): settle and log it in one transaction, one commit.

    A notify that settles is never logged as unsettled, and one that is logged has settled.
    The redelivery Alipay sends until it reads `success` has nothing to write but its log
    entry (`services.is_redelivery`, no lock). When the settlement fails on the database, the
    transaction rolls back whole (nothing half-settled) and the entry is written alone
    afterwards, so the failure is not lost; Alipay is answered `failure`.
    """
    kwargs = {"trade_no": trade.trade_no, "total_amount": trade.total_amount}
    try:
        if services.is_redelivery(trade.out_trade_no, **kwargs):
            return _log(entry, NotifyResult(True, Outcome.DUPLICATE, "duplicate", True))
        with transaction.atomic():
            settled = services.settle_under_lock(
                trade.out_trade_no, paid_at=trade.paid_at, **kwargs
            )
            duplicate = settled.result is services.Settlement.DUPLICATE
            outcome = Outcome.DUPLICATE if duplicate else Outcome.SETTLED
            result = NotifyResult(True, outcome, settled.result.value, True)
            _save_in_settlement(_with_outcome(entry, result))
    except services.SettlementRejected as exc:  # raised before any write
        return _log(entry, _rejected(str(exc), True))
    except _LogWriteFailed:
        # The same failure as when the log was written first: nothing settled, Alipay retries.
        return _unavailable()
    except DatabaseError as exc:
        return _settlement_failed(trade, entry, exc)
    services.finish_settlement(settled, log_paid=False)
    _log_outcome(entry, result, settled)
    return result


class _LogWriteFailed(Exception):
    """The log entry's INSERT failed inside the settlement transaction (wraps the DatabaseError)."""


def _save_in_settlement(entry: PaymentNotification) -> None:
    try:
        entry.save(force_insert=True)
    except DatabaseError as exc:
        raise _LogWriteFailed from exc


def _settlement_failed(
    trade: iPay.TradeStatus, entry: PaymentNotification, exc: DatabaseError
) -> NotifyResult:
    """The settlement failed on the database (rolled back): log the entry alone, answer failure."""
    logger.exception("Database error while settling %s", trade.out_trade_no)
    result = NotifyResult(False, Outcome.ERROR, f"database error: {exc}", True, temporary=True)
    if not connection.in_atomic_block:  # a killed connection: the next query opens anew
        connection.close_if_unusable_or_obsolete()
    entry.pk = None
    try:
        _with_outcome(entry, result).save(force_insert=True)
    except DatabaseError:
        logger.exception("Cannot log an Alipay notify: database unavailable")
    _log_outcome(entry, result)
    return result


def _logged_first(
    handler: Callable[[iPay.TradeStatus], NotifyResult],
) -> Callable[[iPay.TradeStatus, PaymentNotification], NotifyResult]:
    """For the rarer events (closed, refunded, waiting): the entry is logged first, the event
    processed in its own transactions, then the outcome recorded on the entry."""

    def logged(trade: iPay.TradeStatus, entry: PaymentNotification) -> NotifyResult:
        try:
            entry.save(force_insert=True)
        except DatabaseError:
            return _unavailable()
        try:
            result = handler(trade)
        except services.SettlementRejected as exc:
            result = _rejected(str(exc), True)
        except DatabaseError as exc:
            logger.exception("Database error while settling %s", trade.out_trade_no)
            result = NotifyResult(
                False, Outcome.ERROR, f"database error: {exc}", True, temporary=True
            )
        _log_outcome(entry, result)
        try:
            PaymentNotification.objects.filter(pk=entry.pk).update(
                outcome=result.outcome, detail=result.detail[:2000], verified=result.verified
            )
        except DatabaseError:
            logger.exception("Cannot record the outcome of notify %s", entry.pk)
        return result

    return logged


@_logged_first
def _on_closed(trade: iPay.TradeStatus) -> NotifyResult:
    changed = services.mark_closed(trade.out_trade_no, trade.total_amount)
    return NotifyResult(True, Outcome.CLOSED if changed else Outcome.IGNORED, "", True)


@_logged_first
def _on_waiting(trade: iPay.TradeStatus) -> NotifyResult:
    # Nothing to do yet, but the order must be ours.
    if not Order.objects.filter(out_trade_no=trade.out_trade_no).exists():
        return _rejected(f"unknown order {trade.out_trade_no!r}", True)
    return NotifyResult(True, Outcome.IGNORED, "waiting for payment", True)


@_logged_first
def _on_refunded(trade: iPay.TradeStatus) -> NotifyResult:
    paid = Order.objects.filter(out_trade_no=trade.out_trade_no, order_status__in=PAID_STATES)
    if not paid.exists():
        # The paid notify never reached us: the money came before it went back.
        services.settle_payment(
            trade.out_trade_no,
            trade_no=trade.trade_no,
            total_amount=trade.total_amount,
            paid_at=trade.paid_at,
        )
    result = services.record_alipay_refund(trade)
    outcome = (
        Outcome.DUPLICATE if result is services.AlipayRefundOutcome.KNOWN else Outcome.REFUNDED
    )
    return NotifyResult(True, outcome, f"refund {result.value}", True)


HANDLERS: dict[iPay.TradeEvent, Callable[[iPay.TradeStatus, PaymentNotification], NotifyResult]] = {
    iPay.TradeEvent.PAID: _on_paid,
    iPay.TradeEvent.CLOSED: _on_closed,
    iPay.TradeEvent.WAITING: _on_waiting,
    iPay.TradeEvent.REFUNDED: _on_refunded,
}


def log_refused(
    params: dict[str, str] | None,
    *,
    reason: str,
    client_ip: str | None,
    body_bytes: int,
    outcome: str = Outcome.REJECTED,
) -> None:
    """Keep a bounded summary of a notify we refuse unverified (never its body)."""
    params = params or {}
    out_trade_no = str(params.get("out_trade_no", ""))[:SUMMARY_OUT_TRADE_NO]
    try:
        PaymentNotification.objects.create(
            out_trade_no=out_trade_no,
            outcome=outcome,
            verified=False,
            detail=reason[:SUMMARY_DETAIL],
            client_ip=client_ip,
            body_bytes=min(body_bytes, BODY_BYTES_MAX),
        )
    except DatabaseError:
        logger.exception("Cannot log a refused Alipay notify: database unavailable")
    logger.warning(
        "Alipay notify for %s from %s (%d bytes): %s %s",
        out_trade_no or "?",
        client_ip,
        body_bytes,
        outcome,
        reason[:SUMMARY_DETAIL],
    )


def _entry(
    params: dict[str, str], *, client_ip: str | None, body_bytes: int
) -> PaymentNotification:
    """The log entry of a verified notify (kept whole), not saved yet."""
    return PaymentNotification(
        out_trade_no=params.get("out_trade_no", "")[:64],
        notify_id=params.get("notify_id", "")[:128],
        trade_status=params.get("trade_status", "")[:32],
        verified=True,
        params=params,
        client_ip=client_ip,
        body_bytes=body_bytes,
    )


def _with_outcome(entry: PaymentNotification, result: NotifyResult) -> PaymentNotification:
    entry.outcome, entry.detail, entry.verified = (
        result.outcome,
        result.detail[:2000],
        result.verified,
    )
    return entry


def _log_outcome(
    entry: PaymentNotification, result: NotifyResult, settled: services.SettledPayment | None = None
) -> None:
    log = logger.info if result.accepted else logger.warning
    if settled is not None and settled.result is not services.Settlement.DUPLICATE:
        # One line for a notify that paid an order: finish_settlement's own "Order … paid
        # (trade …)" is left out (log_paid=False), its trade is named here.
        log(
            "Alipay notify %s for %s: %s %s, order paid (trade %s)",
            entry.pk,
            entry.out_trade_no,
            result.outcome,
            result.detail,
            settled.trade_no,
        )
        return
    log(
        "Alipay notify %s for %s: %s %s",
        entry.pk,
        entry.out_trade_no,
        result.outcome,
        result.detail,
    )


def _log(entry: PaymentNotification, result: NotifyResult) -> NotifyResult:
    """Insert the log entry of a notify that wrote nothing else, in autocommit (one commit)."""
    try:
        _with_outcome(entry, result).save(force_insert=True)
    except DatabaseError:
        return _unavailable()
    _log_outcome(entry, result)
    return result


def handle_notify(
    params: dict[str, str], *, client_ip: str | None = None, body_bytes: int = 0
) -> NotifyResult:
    """Check one notify, act on it, and log it with what became of it."""
    try:
        client = iPay.get_client()
    except iPay.PaymentNotConfigured:
        log_refused(
            params,
            reason="Alipay is not configured",
            client_ip=client_ip,
            body_bytes=body_bytes,
            outcome=Outcome.ERROR,
        )
        return NotifyResult(False, Outcome.ERROR, "Alipay is not configured", temporary=True)
    try:
        trade = client.read_notify(params)
    except iPay.NotifyRejected as exc:
        if not exc.verified:
            log_refused(params, reason=exc.reason, client_ip=client_ip, body_bytes=body_bytes)
            return _rejected(exc.reason)
        trade, refusal = None, _rejected(exc.reason, True)
    entry = _entry(params, client_ip=client_ip, body_bytes=body_bytes)
    if trade is None:
        return _log(entry, refusal)
    handler = HANDLERS.get(trade.event)
    if handler is None:
        return _log(entry, _rejected(f"unknown trade_status {trade.trade_status[:32]!r}", True))
    return handler(trade, entry)
