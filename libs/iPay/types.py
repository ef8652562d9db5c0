"""Alipay's vocabulary turned into our own types: trade states, notify and refund answers,
amounts and times. The order app works on these, never on Alipay's strings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
# What a real notify needs: about 30 fields and 1-2 KB (fund_bill_list, a subject of up to 256
# characters, passback_params of up to 512). Anything much larger is not from Alipay.
NOTIFY_MAX_BYTES = 8 * 1024
NOTIFY_MAX_FIELDS = 64
_CENT = Decimal("0.01")
# Alipay reads and writes times as naive Beijing time, whatever our own time zone is.
BEIJING = ZoneInfo("Asia/Shanghai")


class PaymentNotConfigured(Exception):
    """No Alipay app id and keys: paid orders cannot be taken."""


class AlipayUnavailable(Exception):
    """Alipay could not be asked: network trouble, a garbled or unsigned answer, or an error."""


class TradeEvent(StrEnum):
    """What a trade query or notify tells the shop, in our words rather than Alipay's."""

    WAITING = "waiting"  # WAIT_BUYER_PAY
    PAID = "paid"  # TRADE_SUCCESS / TRADE_FINISHED
    CLOSED = "closed"  # TRADE_CLOSED: unpaid and timed out or closed (no refund_fee)
    REFUNDED = "refunded"  # a notify carrying refund_fee: money went back (console or API)
    UNKNOWN = "unknown"


_EVENTS = {
    "WAIT_BUYER_PAY": TradeEvent.WAITING,
    "TRADE_SUCCESS": TradeEvent.PAID,
    "TRADE_FINISHED": TradeEvent.PAID,
    "TRADE_CLOSED": TradeEvent.CLOSED,
}


@dataclass(frozen=True)
class TradeStatus:
    """What Alipay says about one of our trades, from a trade query or a verified notify."""

    out_trade_no: str
    trade_no: str
    trade_status: str
    total_amount: Decimal
    paid_at: datetime | None
    # Only in notifies sent after a refund: the trade's refunded total so far, when, and the
    # out_request_no (Alipay calls it out_biz_no) of the refund when it was made through the API.
    refund_fee: Decimal | None = None
    refunded_at: datetime | None = None
    refund_request_no: str = ""
    notify_id: str = ""

    @property
    def is_paid(self) -> bool:
        return self.trade_status in PAID_STATUSES

    @property
    def event(self) -> TradeEvent:
        if self.refund_fee is not None:
            return TradeEvent.REFUNDED
        return _EVENTS.get(self.trade_status, TradeEvent.UNKNOWN)


class NotifyRejected(Exception):
    """A notify we must not act on. `verified`: its signature was Alipay's (then it is kept)."""

    def __init__(self, reason: str, *, verified: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.verified = verified


class CloseResult(StrEnum):
    CLOSED = "closed"
    NOT_OPENED = "ACQ.TRADE_NOT_EXIST"  # the buyer never opened the cashier: nothing to close
    ALREADY_PAID = "ACQ.TRADE_STATUS_ERROR"  # paid (or already closed): ask the trade query


@dataclass(frozen=True)
class RefundResult:
    """Alipay's answer to a refund or a refund query for one out_request_no.

    `succeeded`: the money went back. `definitive`: Alipay decided (a success, or a business
    refusal like "amount too large"); when False, ask again with the same out_request_no.
    """

    out_request_no: str
    succeeded: bool
    definitive: bool
    refund_amount: Decimal | None
    code: str
    reason: str
    answer: dict[str, Any] = field(default_factory=dict)


# Business refusals that will not change if asked again; anything else (ACQ.SYSTEM_ERROR...)
# leaves the refund pending.
FINAL_REFUND_ERRORS = frozenset(
    {
        "ACQ.TRADE_NOT_EXIST",
        "ACQ.TRADE_STATUS_ERROR",
        "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
        "ACQ.TRADE_HAS_CLOSE",
        "ACQ.TRADE_HAS_FINISHED",
        "ACQ.REFUND_FEE_ERROR",
        "ACQ.ONLINE_TRADE_REFUND_ERROR",
        "ACQ.DISCORDANT_REPEAT_REQUEST",
        "ACQ.REASON_TRADE_REFUND_FEE_ERR",
    }
)


def parse_alipay_time(value: str | None) -> datetime | None:
    """Alipay's 'yyyy-MM-dd HH:mm:ss' (Beijing time) as an aware datetime, or None."""
    if not value:
        return None
    try:
        naive = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return naive.replace(tzinfo=BEIJING)


def to_decimal(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def format_amount(amount: Decimal) -> str:
    """An amount as Alipay wants it: a string with exactly two decimals."""
    return str(amount.quantize(_CENT))
