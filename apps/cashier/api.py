"""Alipay's openapi gateway answering server-to-server calls: trade query, close, refund,
refund query. Plain functions over a `protocol.TradeBook`, no Django, so the local cashier
(`services.DatabaseTradeBook`) and test doubles (`MemoryTradeBook`) share them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from .protocol import (
    BUYER_LOGON_ID,
    BUYER_USER_ID,
    TIME_FORMAT,
    TRADE_CLOSED,
    WAIT_BUYER_PAY,
    Refund,
    RefundRefused,
    Trade,
    TradeBook,
    apply_refund,
    decode_biz_content,
    money,
    parse_amount,
    request_signature_ok,
    rsa2_sign,
)

# --- Synchronous API answers --------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayReply:
    key: str  # "<method>_response" or "error_response"
    body: dict[str, Any]
    signed: bool

    def render(self, alipay_private_pem: str) -> str:
        """The JSON text the gateway sends; the signature covers the exact bytes of `body`."""
        obj_json = json.dumps(self.body, ensure_ascii=False, separators=(",", ":"))
        head = json.dumps(self.key)
        if self.signed:
            return f'{{{head}:{obj_json},"sign":"{rsa2_sign(obj_json, alipay_private_pem)}"}}'
        if self.key == "error_response":
            return f'{{{head}:{obj_json},"sign":""}}'
        return f"{{{head}:{obj_json}}}"


def response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def _gateway_error(method: str | None, code: str, msg: str, sub_code: str, sub_msg: str):
    # The real gateway answers request-level errors unsigned; the SDK raises on them.
    body = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}
    return GatewayReply(response_key(method) if method else "error_response", body, False)


def _business_error(sub_code: str, sub_msg: str, biz: Mapping[str, Any], **extra: str) -> dict:
    body: dict[str, Any] = {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": sub_code,
        "sub_msg": sub_msg,
    }
    body.update(extra)
    for key in ("out_trade_no", "trade_no"):
        if isinstance(biz.get(key), str) and biz[key]:
            body[key] = biz[key]
    return body


def _ok(trade: Trade, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
    }
    body.update(fields)
    return body


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _find(book: TradeBook, biz: Mapping[str, Any]) -> Trade | None:
    out_trade_no, trade_no = (
        _str_or_none(biz.get("out_trade_no")),
        _str_or_none(biz.get("trade_no")),
    )
    if out_trade_no is None and trade_no is None:
        return None
    return book.find(out_trade_no=out_trade_no, trade_no=trade_no)


def trade_query(book: TradeBook, biz: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    trade = _find(book, biz)
    if trade is None:
        zero = "0.00"
        return _business_error(
            "ACQ.TRADE_NOT_EXIST",
            "交易不存在",
            biz,
            buyer_pay_amount=zero,
            invoice_amount=zero,
            point_amount=zero,
            receipt_amount=zero,
        )
    amount = money(trade.total_amount)
    paid = trade.paid_at is not None
    paid_amount = amount if paid else "0.00"
    body = _ok(
        trade,
        trade_status=trade.status,
        total_amount=amount,
        buyer_pay_amount=paid_amount,
        receipt_amount=paid_amount,
        invoice_amount=paid_amount,
        point_amount="0.00",
        buyer_logon_id=BUYER_LOGON_ID,
        buyer_user_id=BUYER_USER_ID,
    )
    if paid:
        body["send_pay_date"] = trade.paid_at.strftime(TIME_FORMAT)
        body["fund_bill_list"] = [{"amount": amount, "fund_channel": "ALIPAYACCOUNT"}]
    return body


def trade_close(book: TradeBook, biz: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    trade = _find(book, biz)
    if trade is None:
        return _business_error("ACQ.TRADE_NOT_EXIST", "交易不存在", biz)
    closed = book.close(trade)
    if closed is None:
        return _business_error("ACQ.TRADE_STATUS_ERROR", "交易状态不合法", biz)
    return _ok(closed)


def trade_refund(book: TradeBook, biz: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    trade = _find(book, biz)
    if trade is None:
        return _business_error("ACQ.TRADE_NOT_EXIST", "交易不存在", biz)
    amount = parse_amount(biz.get("refund_amount"))
    if amount is None:
        return _business_error("ACQ.INVALID_PARAMETER", "参数无效: refund_amount", biz)
    out_request_no = _str_or_none(biz.get("out_request_no")) or trade.out_trade_no
    if len(out_request_no) > 64:
        return _business_error("ACQ.INVALID_PARAMETER", "参数无效: out_request_no", biz)
    try:
        after, refund, moved = book.refund(
            trade, out_request_no=out_request_no, amount=amount, now=now
        )
    except RefundRefused as exc:
        return _business_error(exc.sub_code, exc.sub_msg, biz)
    return _ok(
        after,
        buyer_logon_id=BUYER_LOGON_ID,
        buyer_user_id=BUYER_USER_ID,
        fund_change="Y" if moved else "N",
        refund_fee=money(after.refunded_amount),
        send_back_fee=money(refund.refund_amount),
        gmt_refund_pay=refund.refunded_at.strftime(TIME_FORMAT),
    )


def trade_refund_query(book: TradeBook, biz: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    trade = _find(book, biz)
    out_request_no = _str_or_none(biz.get("out_request_no"))
    if trade is None:
        return _business_error("ACQ.TRADE_NOT_EXIST", "交易不存在", biz)
    if out_request_no is None:
        return _business_error("ACQ.INVALID_PARAMETER", "参数无效: out_request_no", biz)
    refund = book.find_refund(trade, out_request_no=out_request_no)
    if refund is None:
        # Alipay answers Success without refund fields: no such refund (yet).
        return _ok(trade, out_request_no=out_request_no)
    return _ok(
        trade,
        out_request_no=out_request_no,
        total_amount=money(trade.total_amount),
        refund_amount=money(refund.refund_amount),
        refund_status="REFUND_SUCCESS",
        gmt_refund_pay=refund.refunded_at.strftime(TIME_FORMAT),
    )


Handler = Callable[[TradeBook, Mapping[str, Any], datetime], dict[str, Any]]
API_METHODS: dict[str, Handler] = {
    "alipay.trade.query": trade_query,
    "alipay.trade.close": trade_close,
    "alipay.trade.refund": trade_refund,
    "alipay.trade.fastpay.refund.query": trade_refund_query,
}


def answer_api_call(
    params: Mapping[str, str],
    *,
    app_id: str,
    app_public_pem: str,
    book: TradeBook,
    now: datetime,
    methods: Mapping[str, Handler] = API_METHODS,
) -> GatewayReply:
    """Answer one server-to-server call (`method` in `methods`) as Alipay's gateway does."""
    method = params.get("method", "")
    if not method:
        return _gateway_error(
            None, "40001", "Missing Required Arguments", "isv.missing-method", "缺少方法名参数"
        )
    if method not in methods:
        return _gateway_error(
            None, "40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名"
        )
    if not params.get("sign"):
        return _gateway_error(
            method, "40001", "Missing Required Arguments", "isv.missing-signature", "缺少签名参数"
        )
    if params.get("app_id") != app_id:
        return _gateway_error(
            method, "40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数"
        )
    if params.get("sign_type") != "RSA2":
        return _gateway_error(
            method, "40002", "Invalid Arguments", "isv.invalid-signature-type", "无效签名类型"
        )
    if not request_signature_ok(params, app_public_pem):
        return _gateway_error(
            method,
            "40002",
            "Invalid Arguments",
            "isv.invalid-signature",
            "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
        )
    biz = decode_biz_content(params.get("biz_content"))
    if not isinstance(biz, dict):
        return _gateway_error(
            method, "40002", "Invalid Arguments", "isv.invalid-biz-content", "业务参数格式错误"
        )
    return GatewayReply(response_key(method), methods[method](book, biz, now), True)


class MemoryTradeBook:
    """`TradeBook` in a dict, for test doubles that need no database (thread-safe)."""

    def __init__(self) -> None:
        self.trades: dict[str, Trade] = {}
        self.refunds: dict[tuple[str, str], Refund] = {}
        self.lock = threading.RLock()

    def put(self, trade: Trade) -> Trade:
        with self.lock:
            self.trades[trade.out_trade_no] = trade
        return trade

    def find(self, *, out_trade_no: str | None, trade_no: str | None) -> Trade | None:
        with self.lock:
            if out_trade_no is not None:
                trade = self.trades.get(out_trade_no)
                if trade is not None and trade_no not in (None, trade.trade_no):
                    return None
                return trade
            return next((t for t in self.trades.values() if t.trade_no == trade_no), None)

    def close(self, trade: Trade) -> Trade | None:
        with self.lock:
            current = self.trades.get(trade.out_trade_no)
            if current is None or current.status != WAIT_BUYER_PAY:
                return None
            return self.put(replace(current, status=TRADE_CLOSED))

    def refund(
        self, trade: Trade, *, out_request_no: str, amount: Decimal, now: datetime
    ) -> tuple[Trade, Refund, bool]:
        with self.lock:
            key = (trade.out_trade_no, out_request_no)
            after, refund, moved = apply_refund(
                self.trades[trade.out_trade_no],
                self.refunds.get(key),
                out_request_no=out_request_no,
                amount=amount,
                now=now,
            )
            if moved:
                self.put(after)
                self.refunds[key] = refund
            return after, refund, moved

    def find_refund(self, trade: Trade, *, out_request_no: str) -> Refund | None:
        with self.lock:
            return self.refunds.get((trade.out_trade_no, out_request_no))
