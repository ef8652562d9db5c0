"""Alipay's asynchronous notify: log it, check everything, settle through the services.

Answer `success` only when the notify was processed now or before; anything else makes Alipay
deliver it again (about 8 times over 25 hours), which is what we want when we could not act.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import DatabaseError

from libs import iPay
from utils.logging import get_logger

from . import services
from .models import Order, PaymentNotification

logger = get_logger("order.notify")
Outcome = PaymentNotification.Outcome


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


def _amount(params: dict[str, str]) -> Decimal | None:
    try:
        amount = Decimal(params.get("total_amount", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _process(params: dict[str, str]) -> NotifyResult:
    try:
        client = iPay.get_client()
    except iPay.PaymentNotConfigured:
        return NotifyResult(False, Outcome.ERROR, "Alipay is not configured", temporary=True)
    if not client.verify_notify(params):
        return _rejected("signature does not verify")
    if params.get("app_id") != client.app_id:
        return _rejected(f"app_id {params.get('app_id')!r} is not ours", True)
    seller_id = client.settings.seller_id
    if seller_id and params.get("seller_id") != seller_id:
        return _rejected(f"seller_id {params.get('seller_id')!r} is not ours", True)
    out_trade_no = params.get("out_trade_no", "")
    amount = _amount(params)
    if amount is None:
        return _rejected("total_amount is missing or not a number", True)
    status = params.get("trade_status", "")
    try:
        if status in iPay.PAID_STATUSES:
            result = services.settle_payment(
                out_trade_no,
                trade_no=params.get("trade_no", ""),
                total_amount=amount,
                paid_at=iPay.parse_alipay_time(params.get("gmt_payment")),
            )
            outcome = Outcome.DUPLICATE if result == "duplicate" else Outcome.SETTLED
            return NotifyResult(True, outcome, result, True)
        if status == "TRADE_CLOSED":
            changed = services.mark_closed(out_trade_no, amount)
            return NotifyResult(True, Outcome.CLOSED if changed else Outcome.IGNORED, "", True)
        if status == "WAIT_BUYER_PAY":
            # Nothing to do yet, but the order must be ours.
            if not Order.objects.filter(out_trade_no=out_trade_no).exists():
                return _rejected(f"unknown order {out_trade_no!r}", True)
            return NotifyResult(True, Outcome.IGNORED, "waiting for payment", True)
    except services.SettlementRejected as exc:
        return _rejected(str(exc), True)
    except DatabaseError as exc:
        logger.exception("Database error while settling %s", out_trade_no)
        return NotifyResult(False, Outcome.ERROR, f"database error: {exc}", True, temporary=True)
    return _rejected(f"unknown trade_status {status!r}", True)


def handle_notify(params: dict[str, str]) -> NotifyResult:
    """Process one notify; every notify is logged with what became of it."""
    try:
        entry = PaymentNotification.objects.create(
            out_trade_no=params.get("out_trade_no", "")[:64],
            notify_id=params.get("notify_id", "")[:128],
            trade_status=params.get("trade_status", "")[:32],
            params=params,
        )
    except DatabaseError:
        logger.exception("Cannot log an Alipay notify: database unavailable")
        return NotifyResult(False, Outcome.ERROR, "database unavailable", temporary=True)
    result = _process(params)
    log = logger.info if result.accepted else logger.warning
    log(
        "Alipay notify %s for %s: %s %s",
        entry.pk,
        entry.out_trade_no,
        result.outcome,
        result.detail,
    )
    try:
        PaymentNotification.objects.filter(pk=entry.pk).update(
            outcome=result.outcome, detail=result.detail[:2000], verified=result.verified
        )
    except DatabaseError:
        logger.exception("Cannot record the outcome of notify %s", entry.pk)
    return result
