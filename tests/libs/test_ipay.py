"""libs.iPay through the real python-alipay-sdk: configuration, keys, signing, gateway calls.

No database: keys are generated once per module, the gateway is a local HTTP server that speaks
Alipay's protocol (tests/support/alipay.py) and checks the SDK's request signatures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from Cryptodome.PublicKey import RSA
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from libs import iPay
from libs.iPay.types import BEIJING
from tests.support.alipay import (
    FakeAlipayGateway,
    KeyPair,
    bare_base64,
    notify_params,
    rsa2_verify,
    sign_notify,
    signing_string,
)

APP_ID = "2021000122609999"
SANDBOX_URL = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
PRODUCTION_URL = "https://openapi.alipay.com/gateway.do"
NOTIFY_URL = "http://api.test/api/v1/order/success/"
RETURN_URL = "http://frontend.test/pay/success"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BASE_DIR = Path(django_settings.BASE_DIR)


def conf(app: KeyPair, ali: KeyPair, **overrides: Any) -> dict[str, Any]:
    """A complete settings.ALIPAY; keyword arguments replace entries."""
    base = {
        "APP_ID": APP_ID,
        "APP_PRIVATE_KEY": app.private_pem,
        "APP_PRIVATE_KEY_FILE": "",
        "PUBLIC_KEY": ali.public_pem,
        "PUBLIC_KEY_FILE": "",
        "SANDBOX": True,
        "GATEWAY": "",
        "SELLER_ID": "2088000000000001",
        "NOTIFY_URL": NOTIFY_URL,
        "RETURN_URL": RETURN_URL,
        "TIMEOUT_SECONDS": 2,
    }
    base.update(overrides)
    return base


def empty_conf() -> dict[str, Any]:
    return {
        "APP_ID": "",
        "APP_PRIVATE_KEY": "",
        "APP_PRIVATE_KEY_FILE": "",
        "PUBLIC_KEY": "",
        "PUBLIC_KEY_FILE": "",
        "SANDBOX": True,
        "GATEWAY": "",
        "SELLER_ID": "",
        "NOTIFY_URL": NOTIFY_URL,
        "RETURN_URL": RETURN_URL,
        "TIMEOUT_SECONDS": 15,
    }


def same_key(pem: str, other_pem: str) -> bool:
    return RSA.import_key(pem) == RSA.import_key(other_pem)


# --- Configuration ------------------------------------------------------------------------------


def test_nothing_configured_means_none(settings):
    settings.ALIPAY = empty_conf()
    assert iPay.load_settings() is None
    assert iPay.is_configured() is False
    with pytest.raises(iPay.PaymentNotConfigured):
        iPay.get_client()


@pytest.mark.parametrize(
    "given",
    [
        {"APP_ID": APP_ID},
        {"APP_ID": APP_ID, "APP_PRIVATE_KEY": "from-app"},
        {"PUBLIC_KEY": "from-alipay"},
    ],
    ids=["app-id-only", "no-alipay-key", "alipay-key-only"],
)
def test_half_configuration_is_refused(settings, app, ali, given):
    values = {"APP_ID": APP_ID, "from-app": app.private_pem, "from-alipay": ali.public_pem}
    settings.ALIPAY = {**empty_conf(), **{k: values.get(v, v) for k, v in given.items()}}
    with pytest.raises(ImproperlyConfigured, match="half configured"):
        iPay.load_settings()


def _one_line_spaces(pem: str) -> str:
    return pem.strip().replace("\n", " ")


def _one_line_backslash_n(pem: str) -> str:
    return pem.strip().replace("\n", "\\n")


def _indented(pem: str) -> str:
    return "\n".join("    " + line for line in pem.strip().splitlines()) + "\n"


KEY_SHAPES = {
    "pem": lambda pem: pem,
    "one-line-spaces": _one_line_spaces,
    "one-line-backslash-n": _one_line_backslash_n,
    "bare-base64": bare_base64,
    "indented": _indented,
}


@pytest.mark.parametrize("shape", KEY_SHAPES)
@pytest.mark.parametrize("pkcs8", [False, True], ids=["pkcs1", "pkcs8"])
def test_keys_are_accepted_in_the_shapes_people_paste(settings, app, app8, ali, shape, pkcs8):
    keys = app8 if pkcs8 else app
    reshape = KEY_SHAPES[shape]
    settings.ALIPAY = conf(
        keys, ali, APP_PRIVATE_KEY=reshape(keys.private_pem), PUBLIC_KEY=reshape(ali.public_pem)
    )

    loaded = iPay.load_settings()

    assert loaded is not None
    assert same_key(loaded.app_private_key, keys.private_pem)
    assert same_key(loaded.alipay_public_key, ali.public_pem)
    assert loaded.app_private_key.startswith("-----BEGIN")  # PEM, as the SDK needs
    # The SDK itself loads them: a pay URL comes out signed by our key.
    url = iPay.get_client().page_pay_url(
        out_trade_no="T1",
        total_amount=Decimal("1"),
        subject="s",
        expires_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert rsa2_verify(signing_string(params), params["sign"], keys.public_pem)


@pytest.mark.parametrize("shape", ["pem", "bare-base64", "one-line-backslash-n"])
def test_keys_are_read_from_files(settings, tmp_path, app8, ali, shape):
    reshape = KEY_SHAPES[shape]
    private_file = tmp_path / "app_private_key.pem"
    public_file = tmp_path / "alipay_public_key.pem"
    private_file.write_text(reshape(app8.private_pem))
    public_file.write_text(reshape(ali.public_pem))
    settings.ALIPAY = conf(
        app8,
        ali,
        APP_PRIVATE_KEY="",
        PUBLIC_KEY="",
        APP_PRIVATE_KEY_FILE=str(private_file),
        PUBLIC_KEY_FILE=str(public_file),
    )

    loaded = iPay.load_settings()

    assert loaded is not None
    assert same_key(loaded.app_private_key, app8.private_pem)
    assert same_key(loaded.alipay_public_key, ali.public_pem)


def test_an_unreadable_key_file_is_refused_by_name(settings, tmp_path, app, ali):
    missing = tmp_path / "nope.pem"
    settings.ALIPAY = conf(app, ali, APP_PRIVATE_KEY="", APP_PRIVATE_KEY_FILE=str(missing))
    with pytest.raises(ImproperlyConfigured, match="ALIPAY_APP_PRIVATE_KEY_FILE") as info:
        iPay.load_settings()
    assert "nope.pem" in str(info.value)


@pytest.mark.parametrize("garbage", ["garbage", "abcd", "-----BEGIN RSA PRIVATE KEY-----"])
@pytest.mark.parametrize("name", ["APP_PRIVATE_KEY", "PUBLIC_KEY"])
def test_garbage_keys_are_refused_with_advice(settings, app, ali, name, garbage):
    settings.ALIPAY = conf(app, ali, **{name: garbage})
    with pytest.raises(ImproperlyConfigured) as info:
        iPay.load_settings()
    message = str(info.value)
    assert f"ALIPAY_{name} cannot be used" in message
    assert "BEGIN/END" in message and "base64" in message  # says what to paste instead
    assert garbage not in message.replace(f"ALIPAY_{name}", "")  # no key text echoed back


def test_a_public_key_where_the_private_key_belongs_is_refused(settings, app, ali):
    settings.ALIPAY = conf(app, ali, APP_PRIVATE_KEY=app.public_pem)
    with pytest.raises(ImproperlyConfigured, match="ALIPAY_APP_PRIVATE_KEY") as info:
        iPay.load_settings()
    assert "public key where a private key belongs" in str(info.value)


def test_a_private_key_where_alipays_public_key_belongs_is_refused(settings, app, ali):
    settings.ALIPAY = conf(app, ali, PUBLIC_KEY=ali.private_pem)
    with pytest.raises(ImproperlyConfigured, match="ALIPAY_PUBLIC_KEY") as info:
        iPay.load_settings()
    assert "private key" in str(info.value)


@pytest.mark.parametrize("shape", ["pem", "bare-base64"])
def test_our_own_public_key_as_alipays_is_refused(settings, app, ali, shape):
    settings.ALIPAY = conf(app, ali, PUBLIC_KEY=KEY_SHAPES[shape](app.public_pem))
    with pytest.raises(ImproperlyConfigured) as info:
        iPay.load_settings()
    message = str(info.value)
    assert "ALIPAY_PUBLIC_KEY" in message
    assert "Alipay's" in message and "public key" in message


@pytest.mark.parametrize("name", ["APP_PRIVATE_KEY", "PUBLIC_KEY"])
def test_key_and_key_file_together_are_refused(settings, tmp_path, app, ali, name):
    path = tmp_path / "key.pem"
    path.write_text(app.private_pem if name == "APP_PRIVATE_KEY" else ali.public_pem)
    settings.ALIPAY = conf(app, ali, **{f"{name}_FILE": str(path)})
    with pytest.raises(ImproperlyConfigured, match="not both") as info:
        iPay.load_settings()
    assert f"ALIPAY_{name}_FILE" in str(info.value)


@pytest.mark.parametrize(
    ("sandbox", "override", "expected"),
    [
        (True, "", SANDBOX_URL),
        (False, "", PRODUCTION_URL),
        (True, "http://127.0.0.1:9/gateway.do", "http://127.0.0.1:9/gateway.do"),
        (False, "http://127.0.0.1:9/gateway.do", "http://127.0.0.1:9/gateway.do"),
    ],
    ids=["sandbox", "production", "override-over-sandbox", "override-over-production"],
)
def test_gateway_selection(settings, app, ali, sandbox, override, expected):
    settings.ALIPAY = conf(app, ali, SANDBOX=sandbox, GATEWAY=override)
    assert iPay.load_settings().gateway == expected
    client = iPay.get_client()
    assert client.sdk._gateway == expected  # the SDK calls what we chose
    url = client.page_pay_url(
        out_trade_no="T1",
        total_amount=Decimal("1"),
        subject="s",
        expires_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert url.startswith(expected + "?")


# --- page_pay_url ----------------------------------------------------------------------------


class _FrozenNow(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 3, 1, 10, 30, 45, tzinfo=tz)


@pytest.mark.parametrize(
    ("subject", "amount", "urls"),
    [
        ("路飞学城 Python & Go = 进阶+实战", Decimal("99.9"), {}),
        ("a/b?c=d&e f%20\"quoted\" 'single'", Decimal("0.01"), {}),
        ("x" * 150, Decimal("12345678.99"), {"RETURN_URL": ""}),
        ("课程", Decimal("100"), {"NOTIFY_URL": "http://api.test/a b?x=1&y=é"}),
    ],
)
def test_page_pay_url_is_byte_for_byte_the_sdks(
    settings, monkeypatch, app, ali, subject, amount, urls
):
    """Prepared once per client, the fixed parameters must not change the request: the same
    URL as the SDK's api_alipay_trade_page_pay for the same moment (the signature included)."""
    import alipay

    settings.ALIPAY = conf(app, ali, GATEWAY="https://pay.example.test/gateway.do", **urls)
    monkeypatch.setattr(alipay, "datetime", _FrozenNow)
    monkeypatch.setattr(iPay.client, "datetime", _FrozenNow)
    client = iPay.get_client()
    expires_at = datetime(2026, 3, 1, 2, 45, tzinfo=UTC)
    out_trade_no = "20260301103045000000abcdef0123456789"
    # An unmodified SDK client (its own pycryptodome signature) with the same keys and URLs.
    plain = alipay.AliPay(
        appid=APP_ID,
        app_notify_url=None,
        app_private_key_string=app.private_pem,
        alipay_public_key_string=ali.public_pem,
    )

    for _ in range(2):  # the second call uses what the first prepared
        url = client.page_pay_url(
            out_trade_no=out_trade_no, total_amount=amount, subject=subject, expires_at=expires_at
        )
        sdk = plain.api_alipay_trade_page_pay(
            subject=subject,
            out_trade_no=out_trade_no,
            total_amount=iPay.format_amount(amount),
            return_url=client.settings.return_url,
            notify_url=client.settings.notify_url,
            time_expire="2026-03-01 10:45:00",
        )
        assert url == f"https://pay.example.test/gateway.do?{sdk}"


@pytest.mark.parametrize(
    ("amount", "sent"),
    [(Decimal("99.9"), "99.90"), (Decimal("100"), "100.00"), (Decimal("0.01"), "0.01")],
)
def test_page_pay_url_is_signed_and_carries_the_order(settings, app, ali, amount, sent):
    gateway_url = "https://pay.example.test/gateway.do"
    settings.ALIPAY = conf(app, ali, GATEWAY=gateway_url)
    expires_at = datetime(2026, 3, 1, 2, 30, 45, tzinfo=UTC)  # 10:30:45 in Shanghai
    subject = "路飞学城 Python & Go = 进阶+实战"

    url = iPay.get_client().page_pay_url(
        out_trade_no="20260301103045000000abcdef0123456789",
        total_amount=amount,
        subject=subject,
        expires_at=expires_at,
    )

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == gateway_url
    raw = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    assert all(len(v) == 1 for v in raw.values())
    params = {k: v[0] for k, v in raw.items()}
    assert params["method"] == "alipay.trade.page.pay"
    assert params["app_id"] == APP_ID
    assert params["sign_type"] == "RSA2"
    assert params["charset"] == "utf-8"
    assert params["notify_url"] == NOTIFY_URL
    assert params["return_url"] == RETURN_URL
    # Signed with our private key over everything but `sign` (sign_type included, raw values).
    assert rsa2_verify(signing_string(params), params["sign"], app.public_pem)
    assert not rsa2_verify(signing_string(params), params["sign"], ali.public_pem)

    biz = json.loads(params["biz_content"])
    assert biz["out_trade_no"] == "20260301103045000000abcdef0123456789"
    assert biz["total_amount"] == sent
    assert isinstance(biz["total_amount"], str)
    assert biz["subject"] == subject
    assert biz["product_code"] == "FAST_INSTANT_TRADE_PAY"
    assert biz["time_expire"] == "2026-03-01 10:30:45"
    parsed = datetime.strptime(biz["time_expire"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    assert parsed == expires_at


def test_format_amount_always_has_two_decimals():
    assert iPay.format_amount(Decimal("99.9")) == "99.90"
    assert iPay.format_amount(Decimal("5")) == "5.00"
    assert iPay.format_amount(Decimal("0.10")) == "0.10"


# --- verify_notify -------------------------------------------------------------------------------


@pytest.fixture
def client(settings, app, ali) -> iPay.AlipayClient:
    settings.ALIPAY = conf(app, ali)
    return iPay.get_client()


@pytest.fixture
def notify(ali) -> dict[str, str]:
    params = notify_params(app_id=APP_ID, out_trade_no="T-notify-1", total_amount="99.90")
    return sign_notify(params, ali.private_pem)


def test_a_correctly_signed_notify_verifies(client, notify):
    before = dict(notify)
    assert client.verify_notify(notify) is True
    assert notify == before  # the caller's dict is left alone (the SDK pops in place)


def test_an_altered_amount_does_not_verify(client, notify):
    assert client.verify_notify({**notify, "total_amount": "0.01"}) is False


def test_a_missing_sign_does_not_verify(client, notify):
    del notify["sign"]
    assert client.verify_notify(notify) is False
    assert client.verify_notify({**notify, "sign": ""}) is False


def test_sign_type_rsa_does_not_verify(client, notify):
    assert client.verify_notify({**notify, "sign_type": "RSA"}) is False


@pytest.mark.parametrize("garbage", ["!!!not base64!!!", "abc", "*" * 344, "=="])
def test_a_garbage_sign_does_not_verify(client, notify, garbage):
    assert client.verify_notify({**notify, "sign": garbage}) is False


def test_a_notify_signed_by_another_key_does_not_verify(client, app, notify):
    forged = sign_notify({k: v for k, v in notify.items() if k != "sign"}, app.private_pem)
    assert client.verify_notify(forged) is False


# --- query_trade / close_trade against the local gateway --------------------------------------


@pytest.fixture
def gateway(app, ali):
    with FakeAlipayGateway(APP_ID, app.public_pem, ali.private_pem) as gw:
        yield gw
    assert not gw.errors, gw.errors


@pytest.fixture
def gw_client(settings, app, ali, gateway) -> iPay.AlipayClient:
    settings.ALIPAY = conf(app, ali, GATEWAY=gateway.url)
    return iPay.get_client()


def test_query_of_a_paid_trade(gw_client, gateway):
    trade_no = gateway.pay("T-paid", "99.90", send_pay_date="2026-03-01 10:30:45")

    status = gw_client.query_trade("T-paid")

    assert isinstance(status, iPay.TradeStatus)
    assert status.is_paid is True
    assert status.out_trade_no == "T-paid"
    assert status.trade_no == trade_no
    assert status.trade_status == "TRADE_SUCCESS"
    assert isinstance(status.total_amount, Decimal)
    assert status.total_amount == Decimal("99.90")
    assert status.paid_at is not None and status.paid_at.tzinfo is not None
    assert status.paid_at == datetime(2026, 3, 1, 2, 30, 45, tzinfo=UTC)
    [request] = gateway.requests_for("alipay.trade.query")
    assert request["signature_ok"] is True
    assert request["biz_content"] == {"out_trade_no": "T-paid"}


def test_query_of_a_finished_trade_is_paid_and_a_waiting_one_is_not(gw_client, gateway):
    gateway.pay("T-finished", "10.00", status="TRADE_FINISHED")
    gateway.add_trade("T-waiting", "10.00")
    assert gw_client.query_trade("T-finished").is_paid is True
    waiting = gw_client.query_trade("T-waiting")
    assert waiting is not None and waiting.is_paid is False and waiting.paid_at is None


def test_query_of_an_unknown_trade_is_none(gw_client, gateway):
    assert gw_client.query_trade("T-unknown") is None
    assert len(gateway.requests_for("alipay.trade.query")) == 1


@pytest.mark.parametrize("mode", ["garbage", "http500", "bad_sign"])
def test_query_when_the_gateway_misbehaves_is_unavailable(gw_client, gateway, mode):
    gateway.pay("T-paid", "99.90")
    gateway.mode = mode
    with pytest.raises(iPay.AlipayUnavailable):
        gw_client.query_trade("T-paid")
    assert gateway.requests_for("alipay.trade.query")  # it really asked


def test_query_when_the_gateway_is_slow_times_out(settings, app, ali, gateway):
    settings.ALIPAY = conf(app, ali, GATEWAY=gateway.url, TIMEOUT_SECONDS=1)
    gateway.pay("T-paid", "99.90")
    # The gateway answers after 6 s; the client must give up long before. Only the call is
    # timed: building a client parses its keys (0.7 s on a busy host, which made the old
    # `< 1.9 s` for client and call together fail when the machine was loaded).
    gateway.mode, gateway.delay = "slow", 6
    client = iPay.get_client()
    started = time.monotonic()
    with pytest.raises(iPay.AlipayUnavailable, match="timed out"):
        client.query_trade("T-paid")
    assert time.monotonic() - started < 4  # gave up after its own timeout, not the answer


def test_query_when_nothing_listens_is_unavailable(settings, app, ali, gateway):
    url = gateway.url
    gateway.stop()
    settings.ALIPAY = conf(app, ali, GATEWAY=url)
    with pytest.raises(iPay.AlipayUnavailable):
        iPay.get_client().query_trade("T-paid")


@pytest.mark.parametrize("error_style", ["unsigned", "error_response", "signed"])
def test_query_refused_by_the_gateway_is_unavailable(settings, app, ali, gateway, error_style):
    settings.ALIPAY = conf(app, ali, GATEWAY=gateway.url, APP_ID="2021000000000000")  # not ours
    gateway.error_style = error_style
    gateway.pay("T-paid", "99.90")
    with pytest.raises(iPay.AlipayUnavailable):
        iPay.get_client().query_trade("T-paid")


def test_close_of_a_waiting_trade(gw_client, gateway):
    gateway.add_trade("T-waiting", "99.90")
    assert gw_client.close_trade("T-waiting") == "closed"
    assert gateway.trades["T-waiting"]["trade_status"] == "TRADE_CLOSED"
    [request] = gateway.requests_for("alipay.trade.close")
    assert request["signature_ok"] is True
    assert request["biz_content"] == {"out_trade_no": "T-waiting"}


def test_close_of_a_paid_trade_says_status_error(gw_client, gateway):
    gateway.pay("T-paid", "99.90")
    assert gw_client.close_trade("T-paid") == "ACQ.TRADE_STATUS_ERROR"
    assert gateway.trades["T-paid"]["trade_status"] == "TRADE_SUCCESS"


def test_close_of_an_unknown_trade_says_not_exist(gw_client, gateway):
    assert gw_client.close_trade("T-unknown") == "ACQ.TRADE_NOT_EXIST"


@pytest.mark.parametrize("mode", ["garbage", "http500", "bad_sign"])
def test_close_when_the_gateway_misbehaves_is_unavailable(gw_client, gateway, mode):
    gateway.add_trade("T-waiting", "99.90")
    gateway.mode = mode
    with pytest.raises(iPay.AlipayUnavailable):
        gw_client.close_trade("T-waiting")


# --- read_notify: the notify as a TradeStatus, or a typed refusal ------------------------------


def test_read_notify_returns_the_same_trade_type_as_the_query(client, notify):
    trade = client.read_notify(notify)
    assert isinstance(trade, iPay.TradeStatus)
    assert (trade.out_trade_no, trade.total_amount) == ("T-notify-1", Decimal("99.90"))
    assert trade.event is iPay.TradeEvent.PAID and trade.is_paid
    assert trade.paid_at == datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    assert trade.refund_fee is None and trade.notify_id == notify["notify_id"]


def test_read_notify_refuses_a_bad_signature_as_unverified(client, notify):
    with pytest.raises(iPay.NotifyRejected) as excinfo:
        client.read_notify({**notify, "total_amount": "0.01"})
    assert excinfo.value.verified is False


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("app_id", "2021000000000000", "app_id"),
        ("seller_id", "2088999999999999", "seller_id"),
        ("total_amount", "NaN", "total_amount"),
        ("refund_fee", "lots", "refund_fee"),
    ],
)
def test_read_notify_refuses_a_signed_notify_that_is_not_for_us(
    settings, app, ali, field, value, reason
):
    settings.ALIPAY = conf(app, ali, SELLER_ID="2088000000000001")
    params = notify_params(app_id=APP_ID, out_trade_no="T-1", total_amount="9.90")
    signed = sign_notify({**params, field: value}, ali.private_pem)
    with pytest.raises(iPay.NotifyRejected) as excinfo:
        iPay.get_client().read_notify(signed)
    assert excinfo.value.verified is True and reason in excinfo.value.reason


def test_a_notify_with_refund_fee_is_a_refund_event(client, ali):
    params = notify_params(
        app_id=APP_ID,
        out_trade_no="T-1",
        total_amount="9.90",
        trade_status="TRADE_CLOSED",
        refund_fee="9.90",
        gmt_refund="2026-11-26 09:00:00",
        out_biz_no="RF-1",
    )
    trade = client.read_notify(sign_notify(params, ali.private_pem))
    assert trade.event is iPay.TradeEvent.REFUNDED
    assert (trade.refund_fee, trade.refund_request_no) == (Decimal("9.90"), "RF-1")
    assert trade.refunded_at == datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)


# --- refund / query_refund against the local gateway ------------------------------------------


def test_refund_returns_a_succeeded_result(gw_client, gateway):
    gateway.pay("T-paid", "99.90")
    result = gw_client.refund("T-paid", amount=Decimal("9.9"), out_request_no="R-1", reason="test")
    assert isinstance(result, iPay.RefundResult)
    assert (result.succeeded, result.definitive, result.refund_amount) == (
        True,
        True,
        Decimal("9.9"),
    )
    [request] = gateway.requests_for("alipay.trade.refund")
    assert request["signature_ok"] and request["biz_content"]["refund_amount"] == "9.90"


def test_refund_refused_by_alipay_is_a_definitive_failure(gw_client, gateway):
    gateway.pay("T-paid", "9.90")
    result = gw_client.refund("T-paid", amount=Decimal("10"), out_request_no="R-1", reason="x")
    assert (result.succeeded, result.definitive) == (False, True)
    assert result.code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"


@pytest.mark.parametrize("mode", ["garbage", "http500", "bad_sign"])
def test_refund_with_an_unknown_outcome_raises_unavailable(gw_client, gateway, mode):
    gateway.pay("T-paid", "9.90")
    gateway.mode = mode
    with pytest.raises(iPay.AlipayUnavailable):
        gw_client.refund("T-paid", amount=Decimal("1"), out_request_no="R-1", reason="x")


def test_query_refund_tells_made_from_never_received(gw_client, gateway):
    gateway.pay("T-paid", "9.90")
    gw_client.refund("T-paid", amount=Decimal("1"), out_request_no="R-1", reason="x")
    made = gw_client.query_refund("T-paid", out_request_no="R-1")
    never = gw_client.query_refund("T-paid", out_request_no="R-2")
    assert (made.succeeded, made.refund_amount) == (True, Decimal("1.00"))
    assert (never.succeeded, never.definitive) == (False, False)
    with pytest.raises(iPay.AlipayUnavailable):
        gw_client.query_refund("T-unknown", out_request_no="R-1")


# --- The app refuses to start with keys it cannot use ---------------------------------------


def run_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALIPAY_", "DJANGO_")) and k != "LUFFY_IGNORE_DOTENV"
    }
    base.update(DJANGO_DEBUG="true", LUFFY_IGNORE_DOTENV="1", **env)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(BASE_DIR / "manage.py"), "check"],
        cwd=tmp_path,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_manage_check_refuses_garbage_keys(tmp_path):
    result = run_check(
        tmp_path, ALIPAY_APP_ID="1", ALIPAY_APP_PRIVATE_KEY="garbage", ALIPAY_PUBLIC_KEY="garbage"
    )
    assert result.returncode != 0
    # Refused while reading the settings, in one line like every other configuration error.
    assert "Configuration error: ALIPAY_APP_PRIVATE_KEY cannot be used" in result.stderr
    assert "BEGIN/END" in result.stderr


def test_manage_check_passes_with_usable_keys(tmp_path, app, ali):
    (tmp_path / "app.pem").write_text(app.private_pem)
    result = run_check(
        tmp_path,
        ALIPAY_APP_ID="1",
        ALIPAY_APP_PRIVATE_KEY_FILE=str(tmp_path / "app.pem"),
        ALIPAY_PUBLIC_KEY=bare_base64(ali.public_pem),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- Settings built from the environment (settings.py) -----------------------------------------


def env_conf(app: KeyPair, ali: KeyPair, **overrides: str) -> dict[str, str]:
    return {
        "ALIPAY_APP_ID": APP_ID,
        "ALIPAY_APP_PRIVATE_KEY": app.private_pem,
        "ALIPAY_PUBLIC_KEY": ali.public_pem,
        **overrides,
    }


def from_env(env: dict[str, str], sandbox: bool = False) -> iPay.AlipaySettings | None:
    return iPay.settings_from_env(
        env, sandbox=sandbox, notify_url="https://api.test/n/", return_url="https://www.test/r"
    )


def test_settings_from_an_empty_environment_are_none():
    assert from_env({"ALIPAY_SANDBOX": "true", "ALIPAY_SELLER_ID": "2088"}) is None


def test_settings_from_the_environment_are_frozen_and_take_the_default_urls(app, ali):
    conf = from_env(env_conf(app, ali, ALIPAY_SELLER_ID=" 2088000000000001 "))
    assert conf.app_id == APP_ID
    assert conf.seller_id == "2088000000000001"
    assert conf.gateway == "https://openapi.alipay.com/gateway.do"
    assert (conf.notify_url, conf.return_url) == ("https://api.test/n/", "https://www.test/r")
    assert conf.timeout_seconds == 15
    with pytest.raises(AttributeError):
        conf.app_id = "other"


def test_sandbox_and_explicit_urls_come_from_the_environment(app, ali):
    env = env_conf(app, ali, ALIPAY_NOTIFY_URL="https://n.test/", ALIPAY_RETURN_URL="https://r/")
    conf = from_env(env, sandbox=True)
    assert conf.gateway == "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
    assert (conf.notify_url, conf.return_url) == ("https://n.test/", "https://r/")


def test_a_timeout_that_is_not_a_number_is_refused_naming_the_variable(app, ali):
    with pytest.raises(iPay.AlipayConfigError, match="ALIPAY_TIMEOUT_SECONDS must be a whole"):
        from_env(env_conf(app, ali, ALIPAY_TIMEOUT_SECONDS="2s"))


def test_a_half_configuration_in_the_environment_is_refused(ali):
    with pytest.raises(ImproperlyConfigured, match="half configured"):
        from_env({"ALIPAY_PUBLIC_KEY": ali.public_pem})


# --- Alipay's times: what strptime reads, in Beijing time ------------------------------------


def _strptime_reading(value: str | None) -> datetime | None:
    from django.utils import timezone

    if not value:
        return None
    try:
        naive = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return timezone.make_aware(naive, BEIJING)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-26 14:21:13",
        "2024-02-29 23:59:59",
        "2026-02-29 00:00:00",
        "2026-01-01 00:00:60",
        "0000-01-01 00:00:00",
        "2026-13-01 00:00:00",
        "2026-1-1 1:2:3",
        " 2026-11-26 14:21:13\n",
        "２０２６-11-26 14:21:13",
    ],
)
def test_alipay_times_at_the_edges_read_as_strptime_reads_them(value):
    read = iPay.parse_alipay_time(value)
    assert read == _strptime_reading(value)
    assert read is None or read.tzinfo is BEIJING


# --- wap_pay_url -----------------------------------------------------------------------------


def test_wap_pay_url_is_the_sdks_wap_request_signed_by_our_key_for_alipays_product_code(
    settings, monkeypatch, app, ali
):
    import alipay

    gateway_url = "https://pay.example.test/gateway.do"
    settings.ALIPAY = conf(app, ali, GATEWAY=gateway_url)
    monkeypatch.setattr(alipay, "datetime", _FrozenNow)
    expires_at = datetime(2026, 3, 1, 2, 45, tzinfo=UTC)  # 10:45 in Shanghai
    out_trade_no = "20260301103045000000abcdef0123456789"
    subject = "路飞学城 Python & Go = 进阶+实战"
    quit_url = "http://frontend.test/course/7?unpaid=20260301103045000000abcdef0123456789"

    url = iPay.get_client().wap_pay_url(
        out_trade_no=out_trade_no,
        total_amount=Decimal("99.9"),
        subject=subject,
        expires_at=expires_at,
        quit_url=quit_url,
    )

    # The very request an unmodified SDK client signs (its own pycryptodome signature).
    plain = alipay.AliPay(
        appid=APP_ID,
        app_notify_url=None,
        app_private_key_string=app.private_pem,
        alipay_public_key_string=ali.public_pem,
    )
    sdk = plain.api_alipay_trade_wap_pay(
        subject=subject,
        out_trade_no=out_trade_no,
        total_amount="99.90",
        return_url=RETURN_URL,
        notify_url=NOTIFY_URL,
        product_code="QUICK_WAP_WAY",
        quit_url=quit_url,
        time_expire="2026-03-01 10:45:00",
    )
    assert url == f"{gateway_url}?{sdk}"

    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
    assert params["method"] == "alipay.trade.wap.pay"
    assert params["app_id"] == APP_ID and params["sign_type"] == "RSA2"
    assert params["notify_url"] == NOTIFY_URL and params["return_url"] == RETURN_URL
    # The SDK checks an RSA2 signature over the sorted k=v pairs: with our app's public key in
    # Alipay's place it accepts the request's signature, with Alipay's it refuses it.
    checker = alipay.AliPay(
        appid=APP_ID,
        app_notify_url=None,
        app_private_key_string=app.private_pem,
        alipay_public_key_string=app.public_pem,
    )
    message = signing_string(params)
    assert checker._verify(message, params["sign"])
    assert not plain._verify(message, params["sign"])
    biz = json.loads(params["biz_content"])
    assert biz == {
        "subject": subject,
        "out_trade_no": out_trade_no,
        "total_amount": "99.90",
        "product_code": "QUICK_WAP_WAY",
        "quit_url": quit_url,
        "time_expire": "2026-03-01 10:45:00",
    }
