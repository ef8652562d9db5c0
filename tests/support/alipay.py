"""Alipay test doubles that speak the real protocol with real RSA2 signatures.

* Keys: `generate_keypair()` (PKCS#1 or PKCS#8 private PEM, SubjectPublicKeyInfo public PEM) and
  `bare_base64()` (the header-less form Alipay's console shows).
* Signatures: `rsa2_sign()` / `rsa2_verify()` / `signing_string()` / `sign_notify()` are the
  local cashier's (`apps.cashier.protocol`), re-exported for tests.
* Asynchronous notifies: `notify_params()` builds a realistic unsigned notify from keywords
  (any amount string, extras, missing fields) for tests of the shop's notify endpoint.
* `FakeAlipayGateway`: the local cashier's server-to-server answers (`apps.cashier.api`) on a
  local HTTP server, plus fault modes and test controls. Point the SDK at it with
  `client._gateway = gateway.url`.

No pytest fixtures live here: this module only offers plain functions and classes.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from Cryptodome.PublicKey import RSA

from apps.cashier.api import GatewayReply, MemoryTradeBook, answer_api_call
from apps.cashier.protocol import (
    BUYER_LOGON_ID,
    BUYER_USER_ID,
    PAID_STATUSES,
    TIME_FORMAT,
    TRADE_SUCCESS,
    WAIT_BUYER_PAY,
    Trade,
    decode_biz_content,
    money,
    parse_time,
    request_signature_ok,
    rsa2_sign,
    rsa2_verify,
    sign_notify,
    signing_string,
)

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


# --- Keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_keypair(bits: int = 2048, *, pkcs8: bool = False) -> KeyPair:
    """A fresh RSA key pair as PEM text (takes about 0.1-1 s at 2048 bits).

    The private key is PKCS#1 (`BEGIN RSA PRIVATE KEY`) unless `pkcs8=True`
    (`BEGIN PRIVATE KEY`); the public key is always `BEGIN PUBLIC KEY`. Drawn from `random`,
    which the suite seeds (tests/support/seed.py): the same seed gives the same keys, so the
    same signatures. Test keys only: never use this generator for a real key.
    """
    key = RSA.generate(bits, randfunc=random.randbytes)
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


@cache
def _stranger_private_pem() -> str:
    """A private key nobody configured anywhere (for the gateway's "bad_sign" mode)."""
    return generate_keypair().private_pem


# --- Asynchronous notifies ------------------------------------------------------------------------


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
    reference = datetime.strptime(gmt_payment, TIME_FORMAT)
    params: dict[str, str] = {
        "notify_time": (reference + timedelta(seconds=2)).strftime(TIME_FORMAT),
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
        "gmt_create": (reference - timedelta(seconds=30)).strftime(TIME_FORMAT),
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
        params["gmt_close"] = (reference + timedelta(minutes=15)).strftime(TIME_FORMAT)
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
    """An Alipay-looking trade number: 28 digits starting with 2026.

    Drawn from the suite's seeded `random` (tests/support/seed.py), so a notify is signed the
    same way again under the same seed; 10**24 values keep the numbers of a test apart.
    """
    return "2026" + "".join(str(random.randrange(10)) for _ in range(24))


def _random_notify_id() -> str:
    return "2026" + random.randbytes(15).hex()


def _money(value: str | Decimal | int | float) -> str:
    return f"{Decimal(str(value)):.2f}"


def _notify_amount(value: str | Decimal | int) -> str:
    return value if isinstance(value, str) else _money(value)


# --- The gateway ----------------------------------------------------------------------------------

_MODES = frozenset({"ok", "garbage", "http500", "slow", "bad_sign", "lost_answer"})
_CHANGING_METHODS = frozenset({"alipay.trade.refund", "alipay.trade.close"})
_ERROR_STYLES = frozenset({"unsigned", "error_response", "signed"})
_BEIJING = ZoneInfo("Asia/Shanghai")


def _beijing_now() -> datetime:
    return datetime.now(_BEIJING).replace(tzinfo=None)


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
    """Alipay's openapi gateway on 127.0.0.1: the local cashier's answers plus fault modes.

    The protocol is the cashier's own (`apps.cashier.api.answer_api_call` over a
    `MemoryTradeBook`): request signature and app_id checks, trade query / close / refund /
    refund query, refund idempotency per out_request_no and the refund cap, and responses signed
    with Alipay's private key, `{"<method>_response": {...}, "sign": "<RSA2 over {...}>"}`.
    This class only adds what a test needs around it.

    State (public):
      book         the `MemoryTradeBook` the answers read and change.
      trades       out_trade_no -> dict (trade_no, trade_status, total_amount, refunded_amount,
                   send_pay_date when paid): a snapshot; change trades with add_trade()/pay().
      refunds      out_trade_no -> {out_request_no: {"amount": "9.90", "gmt_refund_pay": ...}}:
                   a snapshot; add a refund made elsewhere with add_refund().
      requests     every request received, as dicts: method, biz_content (decoded), params (raw
                   strings), signature_ok, http_method, path.
      errors       unexpected exceptions raised inside the server (should stay empty).
      mode         "ok" | "garbage" (200, HTML body) | "http500" | "slow" (sleep `delay` seconds,
                   then answer normally) | "bad_sign" (valid JSON signed by a stranger key) |
                   "lost_answer" (carry out a refund or close, then sleep `delay` seconds before
                   answering: done, but the client never reads the answer; queries answer
                   at once).
      delay        seconds for "slow" and "lost_answer" modes (default 3).
      error_style  how gateway-level errors (bad signature, wrong app_id, unknown method) look:
                   "unsigned" (default, as the real gateway and the cashier answer:
                   `{"<method>_response": {"code": "40002", ...}}` without `sign`; the SDK raises
                   AliPayException), "error_response" (`{"error_response": {...}, "sign": ""}`;
                   the SDK raises AliPayException) or "signed" (`<method>_response` with a valid
                   `sign`; the SDK returns the dict with code 40002 instead of raising).
    """

    handler_class = _Handler
    thread_name = "fake-alipay"

    def __init__(self, app_id: str, app_public_pem: str, alipay_private_pem: str):
        super().__init__()
        self.app_id = str(app_id)
        self.app_public_pem = app_public_pem
        self.alipay_private_pem = alipay_private_pem
        self.book = MemoryTradeBook()
        self.requests: list[dict[str, Any]] = []
        self.mode = "ok"
        self.delay = 3.0
        self.error_style = "unsigned"
        self.lock = threading.RLock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway.do"

    # -- test controls --

    def add_trade(
        self,
        out_trade_no: str,
        total_amount: str | Decimal | int,
        *,
        status: str = WAIT_BUYER_PAY,
        trade_no: str | None = None,
        send_pay_date: str | None = None,
    ) -> str:
        """Register (or replace) a trade as Alipay knows it; returns its trade_no.

        A paid status is paid at `send_pay_date` (Beijing time), or now. Replacing a trade keeps
        its trade_no (unless given) and what was refunded of it.
        """
        with self.book.lock:
            previous = self.book.trades.get(out_trade_no)
            paid_at = None
            if status in PAID_STATUSES:
                paid_at = parse_time(send_pay_date) if send_pay_date else _beijing_now()
            trade = Trade(
                out_trade_no=out_trade_no,
                trade_no=trade_no or (previous and previous.trade_no) or random_trade_no(),
                status=status,
                total_amount=Decimal(str(total_amount)).quantize(Decimal("0.01")),
                subject="路飞学城课程订单",
                paid_at=paid_at,
                refunded_amount=previous.refunded_amount if previous else Decimal("0.00"),
            )
            return self.book.put(trade).trade_no

    def pay(
        self,
        out_trade_no: str,
        total_amount: str | Decimal | int,
        trade_no: str | None = None,
        status: str = TRADE_SUCCESS,
        send_pay_date: str | None = None,
    ) -> str:
        """Mark the trade paid (creating it if needed); returns its trade_no."""
        return self.add_trade(
            out_trade_no,
            total_amount,
            status=status,
            trade_no=trade_no,
            send_pay_date=send_pay_date,
        )

    def add_refund(self, out_trade_no: str, out_request_no: str, amount: str | Decimal) -> None:
        """A refund made outside the shop (Alipay's console), under the gateway's own rules."""
        trade = self.book.trades[out_trade_no]
        self.book.refund(
            trade, out_request_no=out_request_no, amount=Decimal(str(amount)), now=_beijing_now()
        )

    @property
    def trades(self) -> dict[str, dict[str, Any]]:
        with self.book.lock:
            return {no: _trade_view(trade) for no, trade in self.book.trades.items()}

    @property
    def refunds(self) -> dict[str, dict[str, dict[str, str]]]:
        views: dict[str, dict[str, dict[str, str]]] = {}
        with self.book.lock:
            for (out_trade_no, out_request_no), refund in self.book.refunds.items():
                views.setdefault(out_trade_no, {})[out_request_no] = {
                    "amount": money(refund.refund_amount),
                    "gmt_refund_pay": refund.refunded_at.strftime(TIME_FORMAT),
                }
        return views

    def refunded_total(self, out_trade_no: str) -> Decimal:
        trade = self.book.trades.get(out_trade_no)
        return trade.refunded_amount if trade else Decimal("0.00")

    def requests_for(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["method"] == method]

    # -- HTTP --

    def _serve(self, handler: _Handler, path: str, query: str, http_method: str) -> None:
        if path != "/gateway.do":
            self._send(handler, 404, "<html>404 Not Found</html>", "text/html;charset=utf-8")
            return
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        record = {
            "http_method": http_method,
            "path": path,
            "method": params.get("method"),
            "biz_content": decode_biz_content(params.get("biz_content")),
            "params": params,
            "signature_ok": request_signature_ok(params, self.app_public_pem),
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
        reply = answer_api_call(
            params,
            app_id=self.app_id,
            app_public_pem=self.app_public_pem,
            book=self.book,
            now=_beijing_now(),
        )
        lost = mode == "lost_answer" and record["method"] in _CHANGING_METHODS
        if lost and self._stopping.wait(self.delay):
            return
        signer = _stranger_private_pem() if mode == "bad_sign" else self.alipay_private_pem
        body = self._styled(reply).render(signer)
        self._send(handler, 200, body, "application/json;charset=utf-8")

    def _styled(self, reply: GatewayReply) -> GatewayReply:
        """A gateway-level error (the only unsigned reply) dressed in `error_style`."""
        if reply.signed or reply.key == "error_response":
            return reply
        if self.error_style not in _ERROR_STYLES:
            raise ValueError(f"unknown FakeAlipayGateway.error_style {self.error_style!r}")
        if self.error_style == "error_response":
            return replace(reply, key="error_response")
        return replace(reply, signed=self.error_style == "signed")

    @staticmethod
    def _send(handler: _Handler, status: int, body: str, content_type: str) -> None:
        data = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _trade_view(trade: Trade) -> dict[str, Any]:
    view: dict[str, Any] = {
        "trade_no": trade.trade_no,
        "trade_status": trade.status,
        "total_amount": money(trade.total_amount),
        "refunded_amount": money(trade.refunded_amount),
    }
    if trade.paid_at is not None:
        view["send_pay_date"] = trade.paid_at.strftime(TIME_FORMAT)
    return view
