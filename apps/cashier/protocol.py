"""Alipay's protocol as the gateway side speaks it: signatures, page-pay requests, notifies.

Plain functions and dataclasses, no Django: the local cashier (views and services of this app)
and the test doubles in `tests/support` can share them; `api.py` answers the API calls.
Everything here follows what python-alipay-sdk 3.4.0 sends and checks, byte for byte:

* requests are signed over every parameter but `sign` (so `sign_type` is included);
* notifies and the browser's return query are signed over everything but `sign` and `sign_type`;
* a synchronous answer is `{"<method>_response": {...}, "sign": "..."}` where the signature covers
  the exact bytes of the `{...}` object.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Protocol

from Cryptodome.Hash import SHA256
from Cryptodome.PublicKey import RSA
from Cryptodome.Signature import pkcs1_15

PAGE_PAY_METHOD = "alipay.trade.page.pay"
WAP_PAY_METHOD = "alipay.trade.wap.pay"  # the phone cashier: same checks, plus quit_url
CASHIER_METHODS = frozenset({PAGE_PAY_METHOD, WAP_PAY_METHOD})
PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
TRADE_SUCCESS = "TRADE_SUCCESS"
TRADE_CLOSED = "TRADE_CLOSED"
BUYER_USER_ID = "2088102177846875"
BUYER_LOGON_ID = "abc***@sandbox.com"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_CENT = Decimal("0.01")
# Alipay refuses amounts outside this range for a page payment (in yuan).
MAX_AMOUNT = Decimal("100000000.00")


# --- Signatures -----------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _import_key(pem: str) -> RSA.RsaKey:
    return RSA.import_key(pem)


def rsa2_sign(message: str, private_pem: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes of `message`, base64 on one line."""
    digest = SHA256.new(message.encode("utf-8"))
    return base64.b64encode(pkcs1_15.new(_import_key(private_pem)).sign(digest)).decode("ascii")


def rsa2_verify(message: str, signature: str, public_pem: str) -> bool:
    """True when `signature` (base64) is a valid RSA2 signature of `message` for `public_pem`."""
    try:
        raw = base64.b64decode(signature, validate=True)
        pkcs1_15.new(_import_key(public_pem)).verify(SHA256.new(message.encode("utf-8")), raw)
    except (ValueError, TypeError):
        return False
    return True


def signing_string(params: Mapping[str, str], *, exclude: tuple[str, ...] = ("sign",)) -> str:
    """`k=v&k=v` over the params sorted by key, raw (unencoded) values, empty values kept."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in exclude)


def request_signature_ok(params: Mapping[str, str], app_public_pem: str) -> bool:
    """Whether a request to the gateway carries the app's valid RSA2 signature."""
    signature = params.get("sign", "")
    return bool(signature) and rsa2_verify(
        signing_string(params, exclude=("sign",)), signature, app_public_pem
    )


def sign_notify(params: Mapping[str, str], alipay_private_pem: str) -> dict[str, str]:
    """A copy of `params` plus `sign_type="RSA2"` and `sign`, signed like Alipay's notifies
    and return queries (everything but `sign` and `sign_type`, sorted, raw values)."""
    signed = dict(params)
    signed.pop("sign", None)
    signed["sign_type"] = "RSA2"
    signed["sign"] = rsa2_sign(
        signing_string(signed, exclude=("sign", "sign_type")), alipay_private_pem
    )
    return signed


# --- Values ---------------------------------------------------------------------------------------


def money(value: Decimal | str) -> str:
    return str(Decimal(str(value)).quantize(_CENT))


def parse_amount(raw: Any) -> Decimal | None:
    """An amount as Alipay accepts it (0.01 to 100000000, at most two decimals), or None."""
    if not isinstance(raw, str | int | float):
        return None
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(_CENT):
        return None
    if not Decimal("0.01") <= amount <= MAX_AMOUNT:
        return None
    return amount.quantize(_CENT)


def parse_time(raw: Any) -> datetime | None:
    """Alipay's naive 'yyyy-MM-dd HH:mm:ss' (Beijing time), or None."""
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip(), TIME_FORMAT)
    except ValueError:
        return None


def new_trade_no(now: datetime) -> str:
    """An Alipay-looking trade number: 28 digits starting with the date."""
    return now.strftime("%Y%m%d") + "".join(str(secrets.randbelow(10)) for _ in range(20))


def decode_biz_content(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# --- Trades ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trade:
    """A trade as Alipay knows it. Times are naive Beijing time."""

    out_trade_no: str
    trade_no: str
    status: str
    total_amount: Decimal
    subject: str = ""
    paid_at: datetime | None = None
    refunded_amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Refund:
    out_request_no: str
    refund_amount: Decimal
    refunded_at: datetime


class RefundRefused(Exception):
    """A refund Alipay would refuse; carries its sub_code and message."""

    def __init__(self, sub_code: str, sub_msg: str):
        super().__init__(sub_msg)
        self.sub_code = sub_code
        self.sub_msg = sub_msg


def apply_refund(
    trade: Trade, earlier: Refund | None, *, out_request_no: str, amount: Decimal, now: datetime
) -> tuple[Trade, Refund, bool]:
    """Alipay's refund rule for one trade: (trade after, the refund, whether money moves now).

    Every `TradeBook` calls this under its own lock, so a dict and the database refuse alike.
    `earlier` is the refund already made under `out_request_no`: asking again moves no money and
    answers the first refund. A trade refunds only while paid (a fully refunded trade is closed)
    and never more than its total. Raises RefundRefused with Alipay's sub_code.
    """
    if earlier is not None:
        if earlier.refund_amount != amount:
            raise RefundRefused("ACQ.DISCORDANT_REPEAT_REQUEST", "请求信息不一致")
        return trade, earlier, False
    if trade.paid_at is None or trade.status not in PAID_STATUSES:
        raise RefundRefused("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
    refunded = trade.refunded_amount + amount
    if refunded > trade.total_amount:
        raise RefundRefused("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
    # Alipay closes a fully refunded trade.
    status = TRADE_CLOSED if refunded == trade.total_amount else trade.status
    after = replace(trade, refunded_amount=refunded, status=status)
    return after, Refund(out_request_no=out_request_no, refund_amount=amount, refunded_at=now), True


class TradeBook(Protocol):
    """Where the gateway keeps its trades (a database, a dict). Each call is atomic."""

    def find(self, *, out_trade_no: str | None, trade_no: str | None) -> Trade | None: ...

    def close(self, trade: Trade) -> Trade | None:
        """Close an unpaid trade; None when it is no longer WAIT_BUYER_PAY."""

    def refund(
        self, trade: Trade, *, out_request_no: str, amount: Decimal, now: datetime
    ) -> tuple[Trade, Refund, bool]:
        """(trade after, the refund, whether money moved now): `apply_refund` under the
        book's lock. Raises RefundRefused."""

    def find_refund(self, trade: Trade, *, out_request_no: str) -> Refund | None: ...


# --- Page pay request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PagePayRequest:
    """A checked `alipay.trade.page.pay` or `alipay.trade.wap.pay` request: what the cashier
    page shows and keeps."""

    out_trade_no: str
    subject: str
    total_amount: Decimal
    notify_url: str
    return_url: str
    time_expire: datetime | None
    method: str = PAGE_PAY_METHOD
    quit_url: str = ""  # wap only: where a buyer who leaves without paying goes


class PagePayRefused(Exception):
    """The cashier page cannot be shown; the message is for the buyer (Chinese)."""


def parse_page_pay(
    params: Mapping[str, str], *, app_id: str, app_public_pem: str
) -> PagePayRequest:
    """Check a page-pay or wap-pay query as Alipay's cashier does. Raises PagePayRefused."""
    method = params.get("method")
    if method not in CASHIER_METHODS:
        raise PagePayRefused("不支持的接口方法")
    if params.get("app_id") != app_id:
        raise PagePayRefused("无效的AppID参数 (isv.invalid-app-id)")
    if params.get("sign_type") != "RSA2":
        raise PagePayRefused("无效签名类型 (isv.invalid-signature-type)")
    if not request_signature_ok(params, app_public_pem):
        raise PagePayRefused(
            "验签出错,建议检查签名字符串或签名私钥与应用公钥是否匹配 (isv.invalid-signature)"
        )
    biz = decode_biz_content(params.get("biz_content"))
    if not isinstance(biz, dict):
        raise PagePayRefused("业务参数格式错误 (isv.invalid-biz-content)")
    out_trade_no = biz.get("out_trade_no")
    subject = biz.get("subject")
    if not isinstance(out_trade_no, str) or not 0 < len(out_trade_no) <= 64:
        raise PagePayRefused("商户订单号无效 (out_trade_no)")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 256:
        raise PagePayRefused("订单标题无效 (subject)")
    amount = parse_amount(biz.get("total_amount"))
    if amount is None:
        raise PagePayRefused("订单金额无效 (total_amount)")
    time_expire = None
    if "time_expire" in biz:
        time_expire = parse_time(biz["time_expire"])
        if time_expire is None:
            raise PagePayRefused("绝对超时时间格式错误 (time_expire)")
    return PagePayRequest(
        out_trade_no=out_trade_no,
        subject=subject.strip(),
        total_amount=amount,
        notify_url=params.get("notify_url", ""),
        return_url=params.get("return_url", ""),
        time_expire=time_expire,
        method=method,
        quit_url=biz.get("quit_url") if isinstance(biz.get("quit_url"), str) else "",
    )


# --- Notify and return query --------------------------------------------------------------------


def notify_params(
    trade: Trade, *, app_id: str, seller_id: str, notify_id: str, now: datetime
) -> dict[str, str]:
    """The unsigned asynchronous notify Alipay sends for a trade's current status."""
    amount = money(trade.total_amount)
    params = {
        "notify_time": now.strftime(TIME_FORMAT),
        "notify_type": "trade_status_sync",
        "notify_id": notify_id,
        "app_id": app_id,
        "auth_app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "buyer_id": BUYER_USER_ID,
        "buyer_logon_id": BUYER_LOGON_ID,
        "seller_id": seller_id,
        "trade_status": trade.status,
        "total_amount": amount,
        "subject": trade.subject,
        "gmt_create": (trade.paid_at or now).strftime(TIME_FORMAT),
    }
    if trade.status in PAID_STATUSES and trade.paid_at is not None:
        params.update(
            {
                "receipt_amount": amount,
                "invoice_amount": amount,
                "buyer_pay_amount": amount,
                "point_amount": "0.00",
                "gmt_payment": trade.paid_at.strftime(TIME_FORMAT),
                "fund_bill_list": json.dumps(
                    [{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")
                ),
            }
        )
    return params


def return_params(
    trade: Trade, *, app_id: str, seller_id: str, now: datetime, method: str = PAGE_PAY_METHOD
) -> dict[str, str]:
    """The unsigned query Alipay appends to return_url after a payment (no trade_status);
    `method` is the pay request's (page or wap)."""
    return {
        "charset": "utf-8",
        "out_trade_no": trade.out_trade_no,
        "method": f"{method}.return",
        "total_amount": money(trade.total_amount),
        "trade_no": trade.trade_no,
        "auth_app_id": app_id,
        "version": "1.0",
        "app_id": app_id,
        "seller_id": seller_id,
        "timestamp": now.strftime(TIME_FORMAT),
    }
