"""The local cashier's rules: open a trade from a page-pay request, pay it, tell the shop.

Trades live in the database (`CashierTrade`) and every change takes the trade's row lock, so the
buyer's browser, the shop's trade query/close/refund calls and a second process agree. The wire
format is `protocol`'s; this module only adds storage, time and HTTP delivery.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from utils.logging import get_logger

from . import api, protocol
from .devkeys import DEV_APP_ID, DEV_SELLER_ID
from .models import CashierRefund, CashierTrade

logger = get_logger("cashier")
BEIJING = ZoneInfo("Asia/Shanghai")
NOTIFY_TIMEOUT_SECONDS = 5
Status = CashierTrade.Status


@dataclass(frozen=True)
class CashierKeys:
    """What Alipay knows: the app's id and public key, and its own private key."""

    app_id: str
    seller_id: str
    app_public_pem: str
    alipay_private_pem: str


@lru_cache(maxsize=4)
def _keys_in(folder: str) -> CashierKeys:
    base = Path(folder)
    return CashierKeys(
        app_id=DEV_APP_ID,
        seller_id=DEV_SELLER_ID,
        app_public_pem=(base / "app_public.pem").read_text(),
        alipay_private_pem=(base / "alipay_private.pem").read_text(),
    )


def cashier_keys() -> CashierKeys:
    return _keys_in(str(settings.LOCAL_CASHIER_KEY_DIR))


def beijing(moment: datetime) -> datetime:
    """An aware datetime as Alipay writes it: naive Beijing time."""
    return timezone.localtime(moment, BEIJING).replace(tzinfo=None)


def as_protocol(trade: CashierTrade) -> protocol.Trade:
    return protocol.Trade(
        out_trade_no=trade.out_trade_no,
        trade_no=trade.trade_no,
        status=trade.status,
        total_amount=trade.total_amount,
        subject=trade.subject,
        paid_at=beijing(trade.paid_at) if trade.paid_at else None,
        refunded_amount=trade.refunded_amount,
    )


def _close_if_expired(trade: CashierTrade, now: datetime) -> None:
    """Alipay closes an unpaid trade at its time_expire; we do it when we next look."""
    if trade.status == Status.WAIT_BUYER_PAY and trade.expires_at and trade.expires_at <= now:
        trade.status = Status.TRADE_CLOSED
        trade.save(update_fields=["status", "updated_at"])


class DatabaseTradeBook:
    """`protocol.TradeBook` over `CashierTrade`: each call is one transaction under row locks."""

    def _locked(self, *, out_trade_no: str | None, trade_no: str | None) -> CashierTrade | None:
        rows = CashierTrade.objects.select_for_update()
        if out_trade_no:
            rows = rows.filter(out_trade_no=out_trade_no)
        if trade_no:
            rows = rows.filter(trade_no=trade_no)
        trade = rows.first()
        if trade is not None:
            _close_if_expired(trade, timezone.now())
        return trade

    def find(self, *, out_trade_no: str | None, trade_no: str | None) -> protocol.Trade | None:
        with transaction.atomic():
            trade = self._locked(out_trade_no=out_trade_no, trade_no=trade_no)
            return as_protocol(trade) if trade else None

    def close(self, trade: protocol.Trade) -> protocol.Trade | None:
        with transaction.atomic():
            row = self._locked(out_trade_no=trade.out_trade_no, trade_no=None)
            if row is None or row.status != Status.WAIT_BUYER_PAY:
                return None
            row.status = Status.TRADE_CLOSED
            row.save(update_fields=["status", "updated_at"])
            return as_protocol(row)

    def refund(
        self, trade: protocol.Trade, *, out_request_no: str, amount: Decimal, now: datetime
    ) -> tuple[protocol.Trade, protocol.Refund, bool]:
        with transaction.atomic():
            row = self._locked(out_trade_no=trade.out_trade_no, trade_no=None)
            if row is None:
                raise protocol.RefundRefused("ACQ.TRADE_NOT_EXIST", "交易不存在")
            earlier = row.refunds.filter(out_request_no=out_request_no).first()
            after, refund, moved = protocol.apply_refund(
                as_protocol(row),
                _refund(earlier) if earlier else None,
                out_request_no=out_request_no,
                amount=amount,
                now=now,
            )
            if moved:
                CashierRefund.objects.create(
                    trade=row,
                    out_request_no=out_request_no,
                    refund_amount=amount,
                    # The instant the answer names, so a refund query later says the same.
                    refunded_at=timezone.make_aware(refund.refunded_at, BEIJING),
                )
                row.refunded_amount, row.status = after.refunded_amount, after.status
                row.save(update_fields=["refunded_amount", "status", "updated_at"])
            return after, refund, moved

    def find_refund(self, trade: protocol.Trade, *, out_request_no: str) -> protocol.Refund | None:
        refund = CashierRefund.objects.filter(
            trade__out_trade_no=trade.out_trade_no, out_request_no=out_request_no
        ).first()
        return _refund(refund) if refund else None


def _refund(row: CashierRefund) -> protocol.Refund:
    return protocol.Refund(
        out_request_no=row.out_request_no,
        refund_amount=row.refund_amount,
        refunded_at=beijing(row.refunded_at),
    )


def answer_api_call(params: dict[str, str]) -> str:
    """The gateway's JSON answer to one server-to-server call (trade query, close, refund...)."""
    keys = cashier_keys()
    reply = api.answer_api_call(
        params,
        app_id=keys.app_id,
        app_public_pem=keys.app_public_pem,
        book=DatabaseTradeBook(),
        now=beijing(timezone.now()),
    )
    return reply.render(keys.alipay_private_pem)


# --- The buyer's side ---------------------------------------------------------------------------


def open_trade(params: dict[str, str]) -> CashierTrade:
    """Check a signed page-pay query and create (or find again) its trade, as the cashier page
    does when the buyer arrives. Raises protocol.PagePayRefused with a message for the buyer."""
    keys = cashier_keys()
    request = protocol.parse_page_pay(
        params, app_id=keys.app_id, app_public_pem=keys.app_public_pem
    )
    now = timezone.now()
    expires_at = timezone.make_aware(request.time_expire, BEIJING) if request.time_expire else None
    with transaction.atomic():
        trade, created = CashierTrade.objects.select_for_update().get_or_create(
            out_trade_no=request.out_trade_no,
            defaults={
                "trade_no": protocol.new_trade_no(beijing(now)),
                "app_id": keys.app_id,
                "subject": request.subject[:256],
                "total_amount": request.total_amount,
                "notify_url": request.notify_url[:500],
                "return_url": request.return_url[:500],
                "expires_at": expires_at,
            },
        )
        if not created and trade.total_amount != request.total_amount:
            raise protocol.PagePayRefused("交易信息与原交易不一致 (ACQ.CONTEXT_INCONSISTENT)")
        # A buyer may open the same trade on a computer, then on a phone: the last one counts.
        if (trade.method, trade.quit_url) != (request.method, request.quit_url[:500]):
            trade.method, trade.quit_url = request.method, request.quit_url[:500]
            trade.save(update_fields=["method", "quit_url", "updated_at"])
        _close_if_expired(trade, now)
        if trade.status == Status.TRADE_CLOSED:
            raise protocol.PagePayRefused("交易已关闭,请回到商户重新下单 (ACQ.TRADE_HAS_CLOSE)")
    return trade


class PayOutcome(enum.Enum):
    PAID = "paid"
    ALREADY_PAID = "already_paid"
    CLOSED = "closed"
    UNKNOWN = "unknown"


def pay_trade(out_trade_no: str) -> tuple[PayOutcome, CashierTrade | None]:
    """The buyer pressed 确认付款: mark the trade paid once, under its row lock.

    Races with the shop closing the trade (cancel, expiry): whichever locks first wins.
    """
    now = timezone.now()
    with transaction.atomic():
        trade = CashierTrade.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return PayOutcome.UNKNOWN, None
        _close_if_expired(trade, now)
        if trade.paid_at is not None:
            return PayOutcome.ALREADY_PAID, trade
        if trade.status != Status.WAIT_BUYER_PAY:
            return PayOutcome.CLOSED, trade
        trade.status = Status.TRADE_SUCCESS
        trade.paid_at = now
        trade.notify_id = "2026" + secrets.token_hex(15)  # the same for every resend
        trade.save(update_fields=["status", "paid_at", "notify_id", "updated_at"])
    logger.info("Local cashier: trade %s paid (%s yuan)", out_trade_no, trade.total_amount)
    return PayOutcome.PAID, trade


def signed_notify(trade: CashierTrade) -> dict[str, str]:
    keys = cashier_keys()
    params = protocol.notify_params(
        as_protocol(trade),
        app_id=keys.app_id,
        seller_id=keys.seller_id,
        notify_id=trade.notify_id or "2026" + secrets.token_hex(15),
        now=beijing(timezone.now()),
    )
    return protocol.sign_notify(params, keys.alipay_private_pem)


def deliver_notify(trade: CashierTrade, *, timeout: float = NOTIFY_TIMEOUT_SECONDS) -> str:
    """POST the signed notify to the trade's notify_url; returns what the shop answered.

    Call it outside any transaction: the shop reads the order in another request. A failure is
    logged and returned, never raised: Alipay would retry later, and the shop's return page
    queries the trade anyway.
    """
    if urlsplit(trade.notify_url).scheme not in {"http", "https"}:
        return ""
    body = urlencode(signed_notify(trade)).encode()
    request = Request(  # noqa: S310 (http or https, checked above)
        trade.notify_url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    try:
        with urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read(200).decode("utf-8", "replace")
    except URLError as exc:
        answer = f"error: {getattr(exc, 'reason', exc)}"
    except (TimeoutError, OSError) as exc:
        answer = f"error: {exc}"
    level = logger.info if answer == "success" else logger.warning
    level("Local cashier: notify for %s answered %r", trade.out_trade_no, answer)
    CashierTrade.objects.filter(pk=trade.pk).update(last_notify_answer=answer[:200])
    return answer


def return_url(trade: CashierTrade) -> str | None:
    """Where Alipay sends the buyer after paying: return_url plus its signed return query."""
    if not trade.return_url:
        return None
    keys = cashier_keys()
    params = protocol.return_params(
        as_protocol(trade),
        app_id=keys.app_id,
        seller_id=keys.seller_id,
        now=beijing(timezone.now()),
        method=trade.method,
    )
    query = urlencode(protocol.sign_notify(params, keys.alipay_private_pem))
    return f"{trade.return_url}{'&' if '?' in trade.return_url else '?'}{query}"


def cancel_url(trade: CashierTrade | None) -> str:
    """Where 取消 leads. A phone (wap) trade: its quit_url, as Alipay's phone cashier does. A
    page trade (Alipay's desktop page has no way back): the shop's return page with the order
    number and `cancelled=1`, unsigned, so the shop can say the order is still unpaid and offer
    to pay or cancel it; the return page never takes the query as proof of anything."""
    if trade is None:
        return "/"
    if trade.method == protocol.WAP_PAY_METHOD and _is_web_url(trade.quit_url):
        return trade.quit_url
    if _is_web_url(trade.return_url):
        query = urlencode({"out_trade_no": trade.out_trade_no, "cancelled": "1"})
        return f"{trade.return_url}{'&' if '?' in trade.return_url else '?'}{query}"
    return "/"


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)
