"""Alipay test doubles that speak the real protocol with real RSA2 signatures.

* Keys: `generate_keypair()` (PKCS#1 or PKCS#8 private PEM, SubjectPublicKeyInfo public PEM) and
  `bare_base64()` (the header-less form Alipay's console shows).
* Signatures: `rsa2_sign()` / `rsa2_verify()` are SHA256withRSA, PKCS#1 v1.5, base64 on one line,
  byte for byte what python-alipay-sdk's `_sign` / `_verify` do.
* Asynchronous notifies: `notify_params()` builds a realistic unsigned notify and `sign_notify()`
  signs it the way Alipay does (everything but `sign` and `sign_type`, sorted, raw values).
* `FakeAlipayGateway`: a local HTTP server answering `GET /gateway.do` for `alipay.trade.query`,
  `alipay.trade.close`, `alipay.trade.refund` and `alipay.trade.fastpay.refund.query` like
  Alipay's openapi gateway, including request signature checks, signed responses and fault
  modes. Point the SDK at it with `client._gateway = gateway.url`.

No pytest fixtures live here: this module only offers plain functions and classes.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from Cryptodome.Hash import SHA256
from Cryptodome.PublicKey import RSA
from Cryptodome.Signature import pkcs1_15

from .local_server import LocalHTTPServer

__all__ = [
    "FakeAlipayGateway",
    "KeyPair",
    "bare_base64",
    "generate_keypair",
    "notify_params",
    "random_trade_no",
    "rsa2_sign",
    "rsa2_verify",
    "sign_notify",
    "signing_string",
]

PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
BUYER_USER_ID = "2088102177846875"
BUYER_LOGON_ID = "abc***@sandbox.com"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


# --- Keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_keypair(bits: int = 2048, *, pkcs8: bool = False) -> KeyPair:
    """A fresh RSA key pair as PEM text (takes about 0.1-1 s at 2048 bits).

    The private key is PKCS#1 (`BEGIN RSA PRIVATE KEY`) unless `pkcs8=True`
    (`BEGIN PRIVATE KEY`); the public key is always `BEGIN PUBLIC KEY`.
    """
    key = RSA.generate(bits)
    private_pem = key.export_key(format="PEM", pkcs=8 if pkcs8 else 1).decode("ascii")
    public_pem = key.publickey().export_key(format="PEM").decode("ascii")
    return KeyPair(private_pem=private_pem, public_pem=public_pem)


def bare_base64(pem: str) -> str:
    """The PEM body without header, footer or line breaks, as Alipay's console shows keys."""
    return "".join(
        line.strip()
        for line in pem.strip().splitlines()
        if line.strip() and not line.startswith("-----")
    )


@lru_cache(maxsize=64)
def _import_key(pem: str) -> RSA.RsaKey:
    return RSA.import_key(pem)


@cache
def _stranger_private_pem() -> str:
    """A private key nobody configured anywhere (for the gateway's "bad_sign" mode)."""
    return generate_keypair().private_pem


# --- Signatures -----------------------------------------------------------------------------------


def rsa2_sign(message: str, private_pem: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes of `message`, base64 on one line."""
    digest = SHA256.new(message.encode("utf-8"))
    signature = pkcs1_15.new(_import_key(private_pem)).sign(digest)
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(message: str, signature: str, public_pem: str) -> bool:
    """True when `signature` (base64) is a valid RSA2 signature of `message` for `public_pem`."""
    try:
        raw = base64.b64decode(signature, validate=True)
        digest = SHA256.new(message.encode("utf-8"))
        pkcs1_15.new(_import_key(public_pem)).verify(digest, raw)
    except (ValueError, TypeError):
        return False
    return True


def signing_string(params: Mapping[str, str], *, exclude: tuple[str, ...] = ("sign",)) -> str:
    """`k=v&k=v` over the params sorted by key, raw (unencoded) values, empty values kept.

    Requests to the gateway are signed without `sign` only (`sign_type` is part of the string);
    asynchronous notifies without `sign` and `sign_type`.
    """
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in exclude)


# --- Asynchronous notifies ------------------------------------------------------------------------


def sign_notify(params: Mapping[str, str], alipay_private_pem: str) -> dict[str, str]:
    """A copy of `params` plus `sign_type="RSA2"` and `sign`, signed like Alipay's notifies."""
    signed = dict(params)
    signed.pop("sign", None)
    signed["sign_type"] = "RSA2"
    signed["sign"] = rsa2_sign(
        signing_string(signed, exclude=("sign", "sign_type")), alipay_private_pem
    )
    return signed


def notify_params(
    *,
    app_id: str,
    out_trade_no: str,
    total_amount: str | Decimal | int,
    trade_status: str = "TRADE_SUCCESS",
    trade_no: str | None = None,
    seller_id: str | None = "2088000000000001",
    notify_id: str | None = None,
    gmt_payment: str = "2026-11-25 10:00:00",
    **extra: Any,
) -> dict[str, str]:
    """A realistic, unsigned asynchronous notify (every value a string). Sign with sign_notify().

    `gmt_payment` is also the reference time for `gmt_create` (30 s earlier) and `notify_time`
    (2 s later). Payment fields (`gmt_payment`, the paid amounts, `fund_bill_list`) are present
    only for TRADE_SUCCESS / TRADE_FINISHED; TRADE_CLOSED carries `gmt_close` instead.
    A string `total_amount` is sent verbatim; Decimal/int are formatted with two decimals.
    `extra` adds or overrides fields: None removes a field (`seller_id=None` too), dicts/lists
    are JSON-encoded, anything else goes through str().
    """
    amount = _notify_amount(total_amount)
    reference = datetime.strptime(gmt_payment, _TIME_FORMAT)
    params: dict[str, str] = {
        "notify_time": (reference + timedelta(seconds=2)).strftime(_TIME_FORMAT),
        "notify_type": "trade_status_sync",
        "notify_id": notify_id or _random_notify_id(),
        "app_id": app_id,
        "auth_app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade_no or random_trade_no(),
        "out_trade_no": out_trade_no,
        "buyer_id": BUYER_USER_ID,
        "buyer_logon_id": BUYER_LOGON_ID,
        "seller_id": seller_id or "",
        "trade_status": trade_status,
        "total_amount": amount,
        "subject": "路飞学城课程订单",
        "gmt_create": (reference - timedelta(seconds=30)).strftime(_TIME_FORMAT),
    }
    if trade_status in PAID_STATUSES:
        params.update(
            {
                "receipt_amount": amount,
                "invoice_amount": amount,
                "buyer_pay_amount": amount,
                "point_amount": "0.00",
                "gmt_payment": gmt_payment,
                "fund_bill_list": json.dumps(
                    [{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")
                ),
            }
        )
    elif trade_status == "TRADE_CLOSED":
        params["gmt_close"] = (reference + timedelta(minutes=15)).strftime(_TIME_FORMAT)
    if seller_id is None:
        del params["seller_id"]
    for key, value in extra.items():
        if value is None:
            params.pop(key, None)
        elif isinstance(value, dict | list):
            params[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            params[key] = str(value)
    return params


def random_trade_no() -> str:
    """An Alipay-looking trade number: 28 digits starting with 2026."""
    return "2026" + "".join(str(secrets.randbelow(10)) for _ in range(24))


def _random_notify_id() -> str:
    return "2026" + secrets.token_hex(15)


def _money(value: str | Decimal | int | float) -> str:
    return f"{Decimal(str(value)):.2f}"


def _notify_amount(value: str | Decimal | int) -> str:
    return value if isinstance(value, str) else _money(value)


# --- The gateway ----------------------------------------------------------------------------------

_MODES = frozenset({"ok", "garbage", "http500", "slow", "bad_sign", "lost_answer"})
_CHANGING_METHODS = frozenset({"alipay.trade.refund", "alipay.trade.close"})
_ERROR_STYLES = frozenset({"unsigned", "error_response", "signed"})


class _Handler(BaseHTTPRequestHandler):
    server_version = "Alipay-Fake/1.0"

    def do_GET(self):
        parts = urlsplit(self.path)
        self.server.owner._serve(self, parts.path, parts.query, "GET")

    def do_POST(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        query = "&".join(q for q in (parts.query, body) if q)
        self.server.owner._serve(self, parts.path, query, "POST")

    def log_message(self, format, *args):
        pass


class FakeAlipayGateway(LocalHTTPServer):
    """Alipay's openapi gateway for `alipay.trade.query` and `alipay.trade.close`, on 127.0.0.1.

    Requests must be signed with the app's private key (checked against `app_public_pem`) and
    carry `app_id`; responses are signed with Alipay's private key exactly like the real gateway:
    `{"<method>_response": {...}, "sign": "<RSA2 over the exact bytes of {...}>"}`.

    State (all public, change it freely between calls):
      trades       out_trade_no -> dict (trade_status, trade_no, total_amount, send_pay_date, ...);
                   extra keys are copied into query answers.
      requests     every request received, as dicts: method, biz_content (decoded), params (raw
                   strings), signature_ok, http_method, path.
      errors       unexpected exceptions raised inside the server (should stay empty).
      mode         "ok" | "garbage" (200, HTML body) | "http500" | "slow" (sleep `delay` seconds,
                   then answer normally) | "bad_sign" (valid JSON signed by a stranger key) |
                   "lost_answer" (carry out a refund or close, then sleep `delay` seconds before
                   answering: done, but the client never reads the answer; queries answer
                   at once).
      refunds      out_trade_no -> {out_request_no: {"amount": "9.90", "gmt_refund_pay": ...}}
                   for every refund accepted; a trade's refunded total never exceeds its total.
      delay        seconds for "slow" mode (default 3).
      error_style  how gateway-level errors (bad signature, wrong app_id, unknown method) look:
                   "unsigned" (default, as seen from the real gateway: `{"<method>_response":
                   {"code": "40002", ...}}` without `sign`; the SDK raises AliPayException),
                   "error_response" (`{"error_response": {...}, "sign": ""}`; the SDK raises
                   AliPayException) or "signed" (`<method>_response` with a valid `sign`; the SDK
                   returns the dict with code 40002 instead of raising).
    """

    handler_class = _Handler
    thread_name = "fake-alipay"

    def __init__(self, app_id: str, app_public_pem: str, alipay_private_pem: str):
        super().__init__()
        self.app_id = str(app_id)
        self.app_public_pem = app_public_pem
        self.alipay_private_pem = alipay_private_pem
        self.trades: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, dict[str, str]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        self.delay = 3.0
        self.error_style = "unsigned"
        self.lock = threading.RLock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway.do"

    # -- trades --

    def add_trade(
        self,
        out_trade_no: str,
        total_amount: str | Decimal | int,
        *,
        status: str = "WAIT_BUYER_PAY",
        trade_no: str | None = None,
        **fields: Any,
    ) -> str:
        """Register (or replace) a trade as Alipay knows it; returns its trade_no.

        Paid statuses get `send_pay_date` (now) and paid amounts equal to the total unless given.
        """
        amount = _money(total_amount)
        with self.lock:
            previous = self.trades.get(out_trade_no) or {}
            trade_no = trade_no or previous.get("trade_no") or random_trade_no()
            paid = status in PAID_STATUSES
            paid_amount = amount if paid else "0.00"
            trade: dict[str, Any] = {
                "trade_no": trade_no,
                "trade_status": status,
                "total_amount": amount,
                "buyer_pay_amount": paid_amount,
                "receipt_amount": paid_amount,
                "invoice_amount": paid_amount,
                "point_amount": "0.00",
                "buyer_logon_id": BUYER_LOGON_ID,
                "buyer_user_id": BUYER_USER_ID,
            }
            if paid:
                trade["send_pay_date"] = datetime.now().strftime(_TIME_FORMAT)
                trade["fund_bill_list"] = [{"amount": amount, "fund_channel": "ALIPAYACCOUNT"}]
            trade.update(fields)
            self.trades[out_trade_no] = trade
        return trade_no

    def pay(
        self,
        out_trade_no: str,
        total_amount: str | Decimal | int,
        trade_no: str | None = None,
        status: str = "TRADE_SUCCESS",
        **fields: Any,
    ) -> str:
        """Mark the trade paid (creating it if needed); returns its trade_no."""
        return self.add_trade(
            out_trade_no, total_amount, status=status, trade_no=trade_no, **fields
        )

    def requests_for(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["method"] == method]

    # -- HTTP --

    def _serve(self, handler: _Handler, path: str, query: str, http_method: str) -> None:
        if path != "/gateway.do":
            self._send(handler, 404, "<html>404 Not Found</html>", "text/html;charset=utf-8")
            return
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        signature_ok = "sign" in params and rsa2_verify(
            signing_string(params, exclude=("sign",)), params["sign"], self.app_public_pem
        )
        record = {
            "http_method": http_method,
            "path": path,
            "method": params.get("method"),
            "biz_content": _decode_biz_content(params.get("biz_content")),
            "params": params,
            "signature_ok": signature_ok,
        }
        with self.lock:
            self.requests.append(record)
        mode = self.mode
        if mode not in _MODES:
            raise ValueError(f"unknown FakeAlipayGateway.mode {mode!r}")
        if mode == "slow":
            if self._stopping.wait(self.delay):
                return
        elif mode == "garbage":
            self._send(handler, 200, "<html>502 Bad Gateway</html>", "text/html;charset=utf-8")
            return
        elif mode == "http500":
            self._send(
                handler, 500, "<html>500 Internal Server Error</html>", "text/html;charset=utf-8"
            )
            return
        key, obj, signed = self._answer(params, signature_ok)
        lost = mode == "lost_answer" and record["method"] in _CHANGING_METHODS
        if lost and self._stopping.wait(self.delay):
            return
        obj_json = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        head = json.dumps(key)
        if signed:
            signer = _stranger_private_pem() if mode == "bad_sign" else self.alipay_private_pem
            sign = rsa2_sign(obj_json, signer)
            body = f'{{{head}:{obj_json},"sign":"{sign}"}}'
        elif key == "error_response":
            body = f'{{{head}:{obj_json},"sign":""}}'
        else:
            body = f"{{{head}:{obj_json}}}"
        self._send(handler, 200, body, "application/json;charset=utf-8")

    @staticmethod
    def _send(handler: _Handler, status: int, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # -- protocol --

    def _answer(self, params: dict[str, str], signature_ok: bool) -> tuple[str, dict, bool]:
        """(response key, response object, whether to sign it)."""
        method = params.get("method", "")
        handlers = {
            "alipay.trade.query": self._trade_query,
            "alipay.trade.close": self._trade_close,
            "alipay.trade.refund": self._trade_refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
        }
        if not method:
            return self._gateway_error(
                None, "40001", "Missing Required Arguments", "isv.missing-method", "缺少方法名参数"
            )
        if method not in handlers:
            return self._gateway_error(
                None, "40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名"
            )
        if "sign" not in params:
            return self._gateway_error(
                method,
                "40001",
                "Missing Required Arguments",
                "isv.missing-signature",
                "缺少签名参数",
            )
        if params.get("app_id") != self.app_id:
            return self._gateway_error(
                method, "40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数"
            )
        if params.get("sign_type") != "RSA2":
            return self._gateway_error(
                method, "40002", "Invalid Arguments", "isv.invalid-signature-type", "无效签名类型"
            )
        if not signature_ok:
            return self._gateway_error(
                method,
                "40002",
                "Invalid Arguments",
                "isv.invalid-signature",
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
            )
        biz = _decode_biz_content(params.get("biz_content"))
        if not isinstance(biz, dict):
            return self._gateway_error(
                method, "40002", "Invalid Arguments", "isv.invalid-biz-content", "业务参数格式错误"
            )
        return _response_key(method), handlers[method](biz), True

    def _gateway_error(
        self, method: str | None, code: str, msg: str, sub_code: str, sub_msg: str
    ) -> tuple[str, dict, bool]:
        obj = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}
        if method is None or self.error_style == "error_response":
            return "error_response", obj, False
        return _response_key(method), obj, self.error_style == "signed"

    def _find(self, biz: dict) -> tuple[str | None, dict | None]:
        out_trade_no, trade_no = biz.get("out_trade_no"), biz.get("trade_no")
        with self.lock:
            if out_trade_no:
                trade = self.trades.get(out_trade_no)
                if trade is not None and (not trade_no or trade.get("trade_no") == trade_no):
                    return out_trade_no, trade
                return None, None
            for key, trade in self.trades.items():
                if trade_no and trade.get("trade_no") == trade_no:
                    return key, trade
        return None, None

    @staticmethod
    def _not_exist(biz: dict, **zero_amounts: str) -> dict:
        obj = {
            "code": "40004",
            "msg": "Business Failed",
            "sub_code": "ACQ.TRADE_NOT_EXIST",
            "sub_msg": "交易不存在",
        }
        obj.update(zero_amounts)
        for key in ("out_trade_no", "trade_no"):
            if biz.get(key):
                obj[key] = biz[key]
        return obj

    def _trade_query(self, biz: dict) -> dict:
        out_trade_no, trade = self._find(biz)
        if trade is None:
            zero = "0.00"
            return self._not_exist(
                biz,
                buyer_pay_amount=zero,
                invoice_amount=zero,
                point_amount=zero,
                receipt_amount=zero,
            )
        obj: dict[str, Any] = {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.get("trade_no"),
            "out_trade_no": out_trade_no,
        }
        obj.update(trade)
        return {k: v for k, v in obj.items() if v is not None}

    def _trade_close(self, biz: dict) -> dict:
        with self.lock:
            out_trade_no, trade = self._find(biz)
            if trade is None:
                return self._not_exist(biz)
            if trade.get("trade_status") != "WAIT_BUYER_PAY":
                return {
                    "code": "40004",
                    "msg": "Business Failed",
                    "sub_code": "ACQ.TRADE_STATUS_ERROR",
                    "sub_msg": "交易状态不合法",
                }
            trade["trade_status"] = "TRADE_CLOSED"
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.get("trade_no"),
            "out_trade_no": out_trade_no,
        }

    def refunded_total(self, out_trade_no: str) -> Decimal:
        with self.lock:
            done = self.refunds.get(out_trade_no, {})
            return sum((Decimal(r["amount"]) for r in done.values()), Decimal("0.00"))

    @staticmethod
    def _business_error(sub_code: str, sub_msg: str) -> dict:
        return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}

    def _trade_refund(self, biz: dict) -> dict:
        """Refund part or all of a paid trade, once per out_request_no."""
        request_no = str(biz.get("out_request_no") or "")
        try:
            amount = Decimal(str(biz.get("refund_amount")))
        except ArithmeticError:
            amount = Decimal("-1")
        with self.lock:
            out_trade_no, trade = self._find(biz)
            if trade is None:
                return self._not_exist(biz)
            done = self.refunds.setdefault(out_trade_no, {})
            total = Decimal(trade["total_amount"])
            previous = done.get(request_no)
            if previous is not None:  # a retry: refund nothing more, answer as before
                if Decimal(previous["amount"]) != amount:
                    return self._business_error("ACQ.DISCORDANT_REPEAT_REQUEST", "请求信息不一致")
                return self._refund_answer(out_trade_no, trade, previous, fund_change="N")
            if trade.get("trade_status") not in PAID_STATUSES:
                return self._business_error("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                return self._business_error("ACQ.REFUND_FEE_ERROR", "退款金额不合法")
            if self.refunded_total(out_trade_no) + amount > total:
                return self._business_error("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
            record = {
                "amount": _money(amount),
                "gmt_refund_pay": datetime.now().strftime(_TIME_FORMAT),
                "refund_reason": str(biz.get("refund_reason") or ""),
            }
            done[request_no] = record
            if self.refunded_total(out_trade_no) == total:
                trade["trade_status"] = "TRADE_CLOSED"
            return self._refund_answer(out_trade_no, trade, record, fund_change="Y")

    def _refund_answer(self, out_trade_no: str, trade: dict, record: dict, fund_change: str):
        return {
            "code": "10000",
            "msg": "Success",
            "trade_no": trade.get("trade_no"),
            "out_trade_no": out_trade_no,
            "buyer_logon_id": BUYER_LOGON_ID,
            "buyer_user_id": BUYER_USER_ID,
            "fund_change": fund_change,
            "refund_fee": _money(self.refunded_total(out_trade_no)),
            "gmt_refund_pay": record["gmt_refund_pay"],
        }

    def _refund_query(self, biz: dict) -> dict:
        """One refund request as Alipay keeps it; a request it never got has no refund_amount."""
        request_no = str(biz.get("out_request_no") or "")
        with self.lock:
            out_trade_no, trade = self._find(biz)
            if trade is None:
                return self._not_exist(biz)
            record = self.refunds.get(out_trade_no, {}).get(request_no)
            obj: dict[str, Any] = {
                "code": "10000",
                "msg": "Success",
                "trade_no": trade.get("trade_no"),
                "out_trade_no": out_trade_no,
            }
            if record is not None:
                obj.update(
                    out_request_no=request_no,
                    total_amount=trade["total_amount"],
                    refund_amount=record["amount"],
                    refund_status="REFUND_SUCCESS",
                    gmt_refund_pay=record["gmt_refund_pay"],
                )
        return obj


def _response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def _decode_biz_content(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
