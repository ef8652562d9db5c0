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
from utils.db.batch import Statement
from utils.logging import get_logger

from . import services
from .models import PAID_STATES, Order, PaymentNotification
from .services import sql

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


def _on_closed(trade: iPay.TradeStatus) -> NotifyResult:
    changed = services.mark_closed(trade.out_trade_no, trade.total_amount)
    return NotifyResult(True, Outcome.CLOSED if changed else Outcome.IGNORED, "", True)


def _on_waiting(trade: iPay.TradeStatus) -> NotifyResult:
    # Nothing to do yet, but the order must be ours.
    if not Order.objects.filter(out_trade_no=trade.out_trade_no).exists():
        return _rejected(f"unknown order {trade.out_trade_no!r}", True)
    return NotifyResult(True, Outcome.IGNORED, "waiting for payment", True)


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


# TradeEvent.PAID is not here: _settle_and_log commits the settlement with its log entry.
HANDLERS: dict[iPay.TradeEvent, Callable[[iPay.TradeStatus], NotifyResult]] = {
    iPay.TradeEvent.CLOSED: _on_closed,
    iPay.TradeEvent.WAITING: _on_waiting,
    iPay.TradeEvent.REFUNDED: _on_refunded,
}


def _process(trade: iPay.TradeStatus) -> NotifyResult:
    handler = HANDLERS.get(trade.event)
    if handler is None:
        return _rejected(f"unknown trade_status {trade.trade_status[:32]!r}", True)
    try:
        return handler(trade)
    except services.SettlementRejected as exc:
        return _rejected(str(exc), True)
    except DatabaseError as exc:
        logger.exception("Database error while settling %s", trade.out_trade_no)
        return NotifyResult(False, Outcome.ERROR, f"database error: {exc}", True, temporary=True)


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


class _LogWriteFailed(Exception):
    """The log entry's INSERT failed inside the settlement transaction (wraps the DatabaseError)."""


def _settle_and_log(trade: iPay.TradeStatus, entry: PaymentNotification) -> NotifyResult:
    """A paid notify (nearly all of them): read the order, then settle and log it in one commit.

    The order is read first without a lock or a transaction (`check_payment`). A redelivery
    for an order this trade paid already, and a notify refused for an unknown order or another
    amount, have nothing to write but their log entry: it is inserted alone (one statement, its
    own commit). Anything else settles in one transaction with its log entry, one commit: a
    notify that settles is never logged as unsettled, and one that is logged has settled.
    When the settlement fails on the database, the transaction rolls back whole (nothing
    half-settled) and the entry is written alone afterwards, on a fresh connection if the
    failure killed this one, so the failure is not lost; Alipay is answered `failure`.
    """
    try:
        checked = services.check_payment(
            trade.out_trade_no, trade_no=trade.trade_no, total_amount=trade.total_amount
        )
    except services.SettlementRejected as exc:
        return _log_alone(entry, _rejected(str(exc), True))
    except DatabaseError as exc:
        return _settlement_failed(trade, entry, exc)
    if isinstance(checked, services.SettledPayment):  # a redelivery: nothing else to write
        return _log_alone(entry, NotifyResult(True, Outcome.DUPLICATE, checked.result.value, True))
    # The log entry goes in the grant's round trip when the order is marked paid (its outcome
    # is known then: settled, or settled late); else it is inserted after the settlement.
    settles_as = checked.settles_as
    log_row = None
    if settles_as is not None:
        logged = NotifyResult(True, Outcome.SETTLED, settles_as.value, True)
        log_row = sql.notify_log_statement(_with_outcome(entry, logged))
    try:
        return _settle_in_transaction(
            trade,
            entry,
            lambda: services.settle_checked(
                checked,
                trade_no=trade.trade_no,
                paid_at=trade.paid_at,
                with_grant=log_row,
                commit_with_grant=True,  # the log entry is the transaction's last write
            ),
            log_row=log_row,
        )
    except services.OrderChangedSinceRead:
        # Rolled back whole (the buyer's and courses' locks with it): now the order's lock
        # first, as every state change takes them, and everything read again under it.
        return _settle_in_transaction(
            trade,
            entry,
            lambda: services.settle_under_lock(
                trade.out_trade_no,
                trade_no=trade.trade_no,
                total_amount=checked.order.total_amount,
                paid_at=trade.paid_at,
            ),
        )


def _settle_in_transaction(
    trade: iPay.TradeStatus,
    entry: PaymentNotification,
    settle: Callable[[], services.SettledPayment],
    *,
    log_row: Statement | None = None,
) -> NotifyResult:
    """Run `settle` and insert the log entry with its outcome in one transaction (one commit).

    `log_row`: the entry's INSERT, when `settle` sends it in the grant's batch (settle_checked's
    `with_grant`); its failure is the log's, not the settlement's (`batch_statement`)."""
    settled = None
    try:
        with transaction.atomic():
            try:
                settled = settle()
            except services.SettlementRejected as exc:  # raised before any write
                result = _rejected(str(exc), True)
            except DatabaseError as exc:
                if log_row is not None and getattr(exc, "batch_statement", None) is log_row:
                    raise _LogWriteFailed from exc
                raise
            else:
                duplicate = settled.result is services.Settlement.DUPLICATE
                outcome = Outcome.DUPLICATE if duplicate else Outcome.SETTLED
                result = NotifyResult(True, outcome, settled.result.value, True)
            if settled is not None and settled.with_grant is not None:
                # Inserted with the grant, with the outcome settles_as foretold: check it. Both
                # come from UnsettledOrder.settles_as, so this can only catch a future change;
                # the grant's batch may have committed already (commit_with_grant), and then it
                # answers `failure` and Alipay's redelivery is logged as a duplicate.
                if (entry.outcome, entry.detail) != (result.outcome, result.detail):
                    raise RuntimeError(f"notify logged as {entry.detail}, settled as {result}")
                sql.inserted(entry, settled.with_grant.lastrowid)
            else:
                try:
                    # As save(force_insert=True), without building the INSERT through the ORM.
                    sql.insert_notify_log(_with_outcome(entry, result))
                except DatabaseError as exc:
                    raise _LogWriteFailed from exc
    except _LogWriteFailed:
        # The same failure as when the log was written first: nothing settled, Alipay retries.
        logger.exception("Cannot log an Alipay notify: database unavailable")
        return NotifyResult(False, Outcome.ERROR, "database unavailable", True, temporary=True)
    except DatabaseError as exc:
        return _settlement_failed(trade, entry, exc)
    if settled is not None:
        services.finish_settlement(settled, log_paid=False)
    _log_outcome(entry, result, settled)
    return result


def _log_alone(entry: PaymentNotification, result: NotifyResult) -> NotifyResult:
    """Insert the log entry of a notify that wrote nothing else, in autocommit (one commit)."""
    try:
        sql.insert_notify_log(_with_outcome(entry, result))
    except DatabaseError:
        # Not logged: Alipay must deliver it again, as when the log was written first.
        logger.exception("Cannot log an Alipay notify: database unavailable")
        return NotifyResult(False, Outcome.ERROR, "database unavailable", True, temporary=True)
    _log_outcome(entry, result)
    return result


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
    if trade is not None and trade.event is iPay.TradeEvent.PAID:
        return _settle_and_log(trade, entry)
    # Rarer events (closed, refunded, waiting, refused after verification): logged first, then
    # processed in their own transactions, then the outcome recorded.
    try:
        entry.save(force_insert=True)
    except DatabaseError:
        logger.exception("Cannot log an Alipay notify: database unavailable")
        return NotifyResult(False, Outcome.ERROR, "database unavailable", True, temporary=True)
    result = refusal if trade is None else _process(trade)
    _log_outcome(entry, result)
    try:
        PaymentNotification.objects.filter(pk=entry.pk).update(
            outcome=result.outcome, detail=result.detail[:2000], verified=result.verified
        )
    except DatabaseError:
        logger.exception("Cannot record the outcome of notify %s", entry.pk)
    return result
