"""The Alipay fakes, exercised through the real python-alipay-sdk with real RSA2 signatures."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.request
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote_plus

import alipay
import pytest
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig

from apps.cashier.protocol import Trade
from tests.support.alipay import (
    FakeAlipayGateway,
    KeyPair,
    bare_base64,
    generate_keypair,
    notify_params,
    rsa2_sign,
    rsa2_verify,
    sign_notify,
    signing_string,
)

APP_ID = "9021000100000001"


@pytest.fixture(scope="module")
def app_keys() -> KeyPair:
    return generate_keypair()


@pytest.fixture(scope="module")
def alipay_keys() -> KeyPair:
    return generate_keypair()


@pytest.fixture(scope="module")
def stranger_keys() -> KeyPair:
    return generate_keypair()


@pytest.fixture(scope="module")
def pkcs8_keys() -> KeyPair:
    return generate_keypair(pkcs8=True)


@pytest.fixture
def gateway(app_keys, alipay_keys):
    with FakeAlipayGateway(APP_ID, app_keys.public_pem, alipay_keys.private_pem) as gw:
        yield gw
    assert gw.errors == []


def make_client(gateway, private_pem, alipay_public_pem, *, appid=APP_ID, timeout=5):
    client = alipay.AliPay(
        appid=appid,
        app_private_key_string=private_pem,
        alipay_public_key_string=alipay_public_pem,
        sign_type="RSA2",
        config=AliPayConfig(timeout=timeout),
    )
    client._gateway = gateway.url
    return client


@pytest.fixture
def client(gateway, app_keys, alipay_keys):
    return make_client(gateway, app_keys.private_pem, alipay_keys.public_pem)


def http_get(url: str):
    """A plain GET, bypassing the SDK (the URL is always our local http:// gateway)."""
    return urllib.request.urlopen(url, timeout=5)  # noqa: S310


def fetch_raw(gateway, client, method, biz_content):
    """The gateway's raw answer to a request signed by `client` (what urlopen sees in the SDK)."""
    query = client.sign_data(client.build_body(method, biz_content))
    with http_get(f"{gateway.url}?{query}") as response:
        return response.headers.get("Content-Type"), response.read().decode("utf-8")


# --- keys and signatures --------------------------------------------------------------------------


def test_key_formats(app_keys, pkcs8_keys):
    assert app_keys.private_pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert pkcs8_keys.private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    for keys in (app_keys, pkcs8_keys):
        assert keys.public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
        assert keys.private_pem.rstrip().endswith("-----")


def test_bare_base64_is_the_pem_body(app_keys):
    bare = bare_base64(app_keys.public_pem)
    assert "-----" not in bare
    assert "\n" not in bare and " " not in bare
    der = base64.b64decode(bare, validate=True)
    assert der[0] == 0x30  # a DER SEQUENCE: the same key, just without the armour
    assert bare_base64(app_keys.private_pem) != bare


def test_rsa2_sign_is_byte_identical_to_the_sdk(app_keys, alipay_keys):
    client = alipay.AliPay(
        appid=APP_ID,
        app_private_key_string=app_keys.private_pem,
        alipay_public_key_string=alipay_keys.public_pem,
    )
    message = 'a=1&biz_content={"subject":"路飞"}&sign_type=RSA2'
    signature = rsa2_sign(message, app_keys.private_pem)
    assert signature == client._sign(message)
    assert "\n" not in signature
    assert rsa2_verify(message, signature, app_keys.public_pem)


def test_rsa2_verify_rejects_wrong_message_key_and_garbage(app_keys, alipay_keys):
    signature = rsa2_sign("a=1&b=2", app_keys.private_pem)
    assert not rsa2_verify("a=1&b=3", signature, app_keys.public_pem)
    assert not rsa2_verify("a=1&b=2", signature, alipay_keys.public_pem)
    assert not rsa2_verify("a=1&b=2", "not base64!", app_keys.public_pem)
    assert not rsa2_verify("a=1&b=2", base64.b64encode(b"short").decode(), app_keys.public_pem)


def test_signing_string_sorts_keeps_empty_values_and_excludes():
    params = {"b": "2", "sign": "x", "a": "", "sign_type": "RSA2"}
    assert signing_string(params) == "a=&b=2&sign_type=RSA2"
    assert signing_string(params, exclude=("sign", "sign_type")) == "a=&b=2"


# --- SDK key loading ------------------------------------------------------------------------------


def test_sdk_loads_pkcs8_private_key_and_talks_to_the_gateway(alipay_keys, pkcs8_keys):
    with FakeAlipayGateway(APP_ID, pkcs8_keys.public_pem, alipay_keys.private_pem) as gw:
        client = make_client(gw, pkcs8_keys.private_pem, alipay_keys.public_pem)
        gw.pay("P8-1", "12.50")
        assert client.api_alipay_trade_query(out_trade_no="P8-1")["trade_status"] == "TRADE_SUCCESS"
        assert gw.requests[-1]["signature_ok"] is True


@pytest.mark.parametrize("which", ["private", "public"])
def test_sdk_rejects_bare_base64_keys(app_keys, alipay_keys, which):
    private = app_keys.private_pem
    public = alipay_keys.public_pem
    if which == "private":
        private = bare_base64(private)
    else:
        public = bare_base64(public)
    with pytest.raises(ValueError, match="RSA key format is not supported"):
        alipay.AliPay(appid=APP_ID, app_private_key_string=private, alipay_public_key_string=public)


# --- alipay.trade.query ---------------------------------------------------------------------------


def test_query_returns_the_paid_trade(gateway, client):
    trade_no = gateway.pay("LF-1001", "99.00")

    result = client.api_alipay_trade_query(out_trade_no="LF-1001")

    assert result["code"] == "10000"
    assert result["msg"] == "Success"
    assert result["trade_status"] == "TRADE_SUCCESS"
    assert result["trade_no"] == trade_no
    assert re.fullmatch(r"2026\d{24}", trade_no)
    assert result["out_trade_no"] == "LF-1001"
    assert result["total_amount"] == "99.00"
    assert result["buyer_pay_amount"] == result["receipt_amount"] == "99.00"
    assert result["buyer_logon_id"] == "abc***@sandbox.com"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", result["send_pay_date"])


def test_query_by_trade_no_and_amount_normalisation(gateway, client):
    trade_no = gateway.pay("LF-1002", 5, trade_no="2026000000000000000000000042")
    assert trade_no == "2026000000000000000000000042"
    result = client.api_alipay_trade_query(trade_no=trade_no)
    assert result["out_trade_no"] == "LF-1002"
    assert result["total_amount"] == "5.00"


def test_query_of_a_waiting_trade_has_no_payment(gateway, client):
    gateway.add_trade("LF-1003", "20.00")
    result = client.api_alipay_trade_query(out_trade_no="LF-1003")
    assert result["trade_status"] == "WAIT_BUYER_PAY"
    assert result["buyer_pay_amount"] == "0.00"
    assert "send_pay_date" not in result


def test_query_of_an_unknown_trade_is_a_returned_business_failure(gateway, client):
    gateway.pay("LF-OTHER", "1.00")
    result = client.api_alipay_trade_query(out_trade_no="LF-404")
    assert result["code"] == "40004"
    assert result["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    assert result["sub_msg"] == "交易不存在"
    assert result["out_trade_no"] == "LF-404"
    assert "trade_status" not in result


def test_requests_are_recorded_decoded(gateway, client):
    client.api_alipay_trade_query(out_trade_no="LF-路飞-1")
    (request,) = gateway.requests
    assert request["method"] == "alipay.trade.query"
    assert request["biz_content"] == {"out_trade_no": "LF-路飞-1"}
    assert request["signature_ok"] is True
    assert request["http_method"] == "GET"
    params = request["params"]
    assert params["app_id"] == APP_ID
    assert params["sign_type"] == "RSA2"
    assert params["charset"] == "utf-8"
    assert gateway.requests_for("alipay.trade.query") == [request]
    assert gateway.requests_for("alipay.trade.close") == []


def test_response_sign_covers_the_exact_object_bytes(gateway, client, alipay_keys):
    content_type, raw = fetch_raw(
        gateway, client, "alipay.trade.query", {"out_trade_no": "LF-NONE"}
    )
    assert content_type == "application/json;charset=utf-8"
    assert "交易不存在" in raw  # not \u-escaped: the signature is over the UTF-8 text
    envelope = json.loads(raw)
    assert set(envelope) == {"alipay_trade_query_response", "sign"}
    plain = client._get_string_to_be_signed(raw, "alipay_trade_query_response")
    assert json.loads(plain) == envelope["alipay_trade_query_response"]
    assert rsa2_verify(plain, envelope["sign"], alipay_keys.public_pem)
    reformatted = json.dumps(envelope["alipay_trade_query_response"])  # ", " / ": " separators
    assert not rsa2_verify(reformatted, envelope["sign"], alipay_keys.public_pem)


# --- alipay.trade.close ---------------------------------------------------------------------------


def test_close_closes_a_waiting_trade(gateway, client):
    trade_no = gateway.add_trade("LF-2001", "30.00")

    result = client.api_alipay_trade_close(out_trade_no="LF-2001")

    assert result == {
        "code": "10000",
        "msg": "Success",
        "trade_no": trade_no,
        "out_trade_no": "LF-2001",
    }
    assert gateway.trades["LF-2001"]["trade_status"] == "TRADE_CLOSED"
    assert client.api_alipay_trade_query(out_trade_no="LF-2001")["trade_status"] == "TRADE_CLOSED"


def test_close_refuses_a_paid_trade(gateway, client):
    gateway.pay("LF-2002", "30.00")
    result = client.api_alipay_trade_close(out_trade_no="LF-2002")
    assert result["code"] == "40004"
    assert result["sub_code"] == "ACQ.TRADE_STATUS_ERROR"
    assert gateway.trades["LF-2002"]["trade_status"] == "TRADE_SUCCESS"


def test_close_of_an_unknown_trade(gateway, client):
    result = client.api_alipay_trade_close(out_trade_no="LF-2404")
    assert result["sub_code"] == "ACQ.TRADE_NOT_EXIST"


# --- request authentication -----------------------------------------------------------------------


def test_wrong_app_private_key_makes_the_sdk_raise(gateway, stranger_keys, alipay_keys):
    client = make_client(gateway, stranger_keys.private_pem, alipay_keys.public_pem)
    gateway.pay("LF-3001", "1.00")
    with pytest.raises(AliPayException, match=re.escape("isv.invalid-signature")):
        client.api_alipay_trade_query(out_trade_no="LF-3001")
    assert gateway.requests[-1]["signature_ok"] is False


def test_error_response_style_also_raises(gateway, stranger_keys, alipay_keys):
    gateway.error_style = "error_response"
    client = make_client(gateway, stranger_keys.private_pem, alipay_keys.public_pem)
    with pytest.raises(AliPayException, match="error_response"):
        client.api_alipay_trade_query(out_trade_no="LF-3002")


def test_signed_error_style_is_returned_not_raised(gateway, stranger_keys, alipay_keys):
    gateway.error_style = "signed"
    client = make_client(gateway, stranger_keys.private_pem, alipay_keys.public_pem)
    result = client.api_alipay_trade_query(out_trade_no="LF-3003")
    assert result["code"] == "40002"
    assert result["sub_code"] == "isv.invalid-signature"


def test_wrong_app_id_is_refused(gateway, app_keys, alipay_keys):
    client = make_client(gateway, app_keys.private_pem, alipay_keys.public_pem, appid="2021999")
    gateway.pay("LF-3004", "1.00")
    with pytest.raises(AliPayException, match=re.escape("isv.invalid-app-id")):
        client.api_alipay_trade_query(out_trade_no="LF-3004")


def test_a_tampered_request_is_refused(gateway, client):
    gateway.pay("LF-3005", "1.00")
    gateway.pay("LF-3006", "1.00")
    query = client.sign_data(client.build_body("alipay.trade.query", {"out_trade_no": "LF-3005"}))
    tampered = query.replace(quote_plus("LF-3005"), quote_plus("LF-3006"))
    assert tampered != query
    with http_get(f"{gateway.url}?{tampered}") as response:
        body = json.loads(response.read())
    assert body["alipay_trade_query_response"]["sub_code"] == "isv.invalid-signature"
    assert "sign" not in body
    assert gateway.requests[-1]["biz_content"] == {"out_trade_no": "LF-3006"}


def test_unknown_path_is_404(gateway):
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        http_get(gateway.url.replace("gateway.do", "nope"))
    excinfo.value.close()
    assert excinfo.value.code == 404


# --- fault modes ----------------------------------------------------------------------------------


def test_bad_sign_mode_fails_sdk_validation(gateway, client):
    gateway.pay("LF-4001", "1.00")
    gateway.mode = "bad_sign"
    with pytest.raises(AliPayValidationError):
        client.api_alipay_trade_query(out_trade_no="LF-4001")
    gateway.mode = "ok"
    assert client.api_alipay_trade_query(out_trade_no="LF-4001")["code"] == "10000"


def test_garbage_mode_is_a_json_error(gateway, client):
    gateway.mode = "garbage"
    with pytest.raises(json.JSONDecodeError):
        client.api_alipay_trade_query(out_trade_no="LF-4002")
    assert gateway.requests[-1]["method"] == "alipay.trade.query"


def test_http500_mode_is_an_http_error(gateway, client):
    gateway.mode = "http500"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        client.api_alipay_trade_close(out_trade_no="LF-4003")
    excinfo.value.close()
    assert excinfo.value.code == 500


def test_slow_mode_times_out(gateway, app_keys, alipay_keys):
    client = make_client(gateway, app_keys.private_pem, alipay_keys.public_pem, timeout=0.5)
    gateway.pay("LF-4004", "1.00")
    gateway.mode = "slow"
    gateway.delay = 3
    started = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        client.api_alipay_trade_query(out_trade_no="LF-4004")
    assert time.monotonic() - started < 2.5
    gateway.mode = "ok"
    assert client.api_alipay_trade_query(out_trade_no="LF-4004")["code"] == "10000"


def test_slow_mode_answers_after_the_delay(gateway, client):
    gateway.pay("LF-4005", "1.00")
    gateway.mode = "slow"
    gateway.delay = 0.3
    started = time.monotonic()
    assert client.api_alipay_trade_query(out_trade_no="LF-4005")["code"] == "10000"
    assert time.monotonic() - started >= 0.3


def test_stopped_gateway_refuses_connections(app_keys, alipay_keys):
    gw = FakeAlipayGateway(APP_ID, app_keys.public_pem, alipay_keys.private_pem)
    with pytest.raises(RuntimeError):
        _ = gw.url
    with gw:
        url = gw.url
        client = make_client(gw, app_keys.private_pem, alipay_keys.public_pem)
        client.api_alipay_trade_query(out_trade_no="X")
    client._gateway = url
    with pytest.raises(urllib.error.URLError):
        client.api_alipay_trade_query(out_trade_no="X")


# --- asynchronous notifies ------------------------------------------------------------------------


def notify_client(app_keys, alipay_keys):
    return alipay.AliPay(
        appid=APP_ID,
        app_private_key_string=app_keys.private_pem,
        alipay_public_key_string=alipay_keys.public_pem,
        sign_type="RSA2",
    )


def test_notify_params_are_realistic():
    params = notify_params(app_id=APP_ID, out_trade_no="LF-5001", total_amount="88.00")
    assert all(isinstance(v, str) for v in params.values())
    assert params["app_id"] == APP_ID
    assert params["notify_type"] == "trade_status_sync"
    assert params["trade_status"] == "TRADE_SUCCESS"
    assert params["gmt_payment"] == "2026-11-25 10:00:00"
    assert params["notify_time"] == "2026-11-25 10:00:02"
    assert params["receipt_amount"] == params["buyer_pay_amount"] == "88.00"
    assert re.fullmatch(r"2026\d{24}", params["trade_no"])
    assert json.loads(params["fund_bill_list"]) == [
        {"amount": "88.00", "fundChannel": "ALIPAYACCOUNT"}
    ]
    assert "sign" not in params and "sign_type" not in params
    other = notify_params(app_id=APP_ID, out_trade_no="LF-5001", total_amount="88.00")
    assert other["trade_no"] != params["trade_no"]
    assert other["notify_id"] != params["notify_id"]


def test_notify_params_for_unpaid_statuses_and_extras():
    waiting = notify_params(
        app_id=APP_ID,
        out_trade_no="LF-5002",
        total_amount=10,
        trade_status="WAIT_BUYER_PAY",
        seller_id=None,
        passback_params="",
    )
    assert waiting["total_amount"] == "10.00"
    assert "gmt_payment" not in waiting and "buyer_pay_amount" not in waiting
    assert "seller_id" not in waiting
    assert waiting["passback_params"] == ""
    closed = notify_params(
        app_id=APP_ID,
        out_trade_no="LF-5002",
        total_amount="10.00",
        trade_status="TRADE_CLOSED",
        subject=None,
    )
    assert "gmt_close" in closed
    assert "subject" not in closed


def test_sdk_verifies_a_signed_notify(app_keys, alipay_keys):
    client = notify_client(app_keys, alipay_keys)
    signed = sign_notify(
        notify_params(app_id=APP_ID, out_trade_no="LF-5003", total_amount="66.60", body=""),
        alipay_keys.private_pem,
    )
    assert signed["sign_type"] == "RSA2"
    data = dict(signed)
    sign = data.pop("sign")
    assert client.verify(data, sign) is True
    assert "sign_type" not in data  # the SDK pops it in place


@pytest.mark.parametrize(
    ("field", "value"),
    [("total_amount", "0.01"), ("trade_status", "TRADE_FINISHED"), ("body", "x")],
)
def test_sdk_rejects_an_altered_notify(app_keys, alipay_keys, field, value):
    client = notify_client(app_keys, alipay_keys)
    signed = sign_notify(
        notify_params(app_id=APP_ID, out_trade_no="LF-5004", total_amount="66.60", body=""),
        alipay_keys.private_pem,
    )
    data = dict(signed)
    sign = data.pop("sign")
    assert data[field] != value
    data[field] = value
    assert client.verify(data, sign) is False


def test_notify_empty_values_are_signed(app_keys, alipay_keys):
    client = notify_client(app_keys, alipay_keys)
    signed = sign_notify(
        notify_params(app_id=APP_ID, out_trade_no="LF-5005", total_amount="1.00", body=""),
        alipay_keys.private_pem,
    )
    data = {k: v for k, v in signed.items() if k not in ("sign", "body")}
    assert client.verify(data, signed["sign"]) is False


def test_notify_signed_by_another_key_is_rejected(app_keys, alipay_keys):
    client = notify_client(app_keys, alipay_keys)
    signed = sign_notify(
        notify_params(app_id=APP_ID, out_trade_no="LF-5006", total_amount="1.00"),
        app_keys.private_pem,
    )
    sign = signed.pop("sign")
    assert client.verify(signed, sign) is False


def test_sdk_verify_refuses_another_sign_type(app_keys, alipay_keys):
    client = notify_client(app_keys, alipay_keys)
    signed = sign_notify(
        notify_params(app_id=APP_ID, out_trade_no="LF-5007", total_amount="1.00"),
        alipay_keys.private_pem,
    )
    sign = signed.pop("sign")
    signed["sign_type"] = "RSA"
    with pytest.raises(AliPayException, match="Unknown sign type"):
        client.verify(signed, sign)


def test_sign_notify_replaces_a_stale_sign_and_keeps_input(alipay_keys):
    params = notify_params(app_id=APP_ID, out_trade_no="LF-5008", total_amount="1.00")
    params["sign"] = "stale"
    signed = sign_notify(params, alipay_keys.private_pem)
    assert params["sign"] == "stale" and "sign_type" not in params
    assert signed["sign"] != "stale"
    message = signing_string(signed, exclude=("sign", "sign_type"))
    assert rsa2_verify(message, signed["sign"], alipay_keys.public_pem)


# --- refunds --------------------------------------------------------------------------------------


def test_refund_pays_back_part_of_a_paid_trade_with_a_signed_answer(gateway, client):
    trade_no = gateway.pay("LF-5001", "30.00")

    result = client.api_alipay_trade_refund(
        "10.00", out_trade_no="LF-5001", out_request_no="R1", refund_reason="不想要了"
    )

    assert result["code"] == "10000" and result["fund_change"] == "Y"
    assert (result["trade_no"], result["out_trade_no"]) == (trade_no, "LF-5001")
    assert result["refund_fee"] == "10.00"
    assert gateway.refunded_total("LF-5001") == Decimal("10.00")
    assert gateway.refunds["LF-5001"]["R1"]["amount"] == "10.00"
    assert gateway.requests[-1]["biz_content"]["refund_reason"] == "不想要了"
    assert gateway.trades["LF-5001"]["trade_status"] == "TRADE_SUCCESS"
    assert gateway.requests[-1]["signature_ok"] is True


def test_refund_is_idempotent_per_out_request_no(gateway, client):
    gateway.pay("LF-5002", "30.00")
    first = client.api_alipay_trade_refund("10.00", out_trade_no="LF-5002", out_request_no="R1")
    again = client.api_alipay_trade_refund("10.00", out_trade_no="LF-5002", out_request_no="R1")
    other = client.api_alipay_trade_refund("5.00", out_trade_no="LF-5002", out_request_no="R2")

    assert (first["fund_change"], again["fund_change"]) == ("Y", "N")
    assert again["refund_fee"] == "10.00" and other["refund_fee"] == "15.00"
    assert gateway.refunded_total("LF-5002") == Decimal("15.00")
    changed = client.api_alipay_trade_refund("9.00", out_trade_no="LF-5002", out_request_no="R1")
    assert changed["sub_code"] == "ACQ.DISCORDANT_REPEAT_REQUEST"


def test_refunds_never_exceed_the_paid_amount_and_a_full_refund_closes_the_trade(gateway, client):
    gateway.pay("LF-5003", "30.00")
    too_much = client.api_alipay_trade_refund("30.01", out_trade_no="LF-5003", out_request_no="R1")
    assert too_much["code"] == "40004"
    assert too_much["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"

    client.api_alipay_trade_refund("20.00", out_trade_no="LF-5003", out_request_no="R2")
    rest = client.api_alipay_trade_refund("10.00", out_trade_no="LF-5003", out_request_no="R3")
    beyond = client.api_alipay_trade_refund("0.01", out_trade_no="LF-5003", out_request_no="R4")

    assert rest["refund_fee"] == "30.00"
    assert gateway.trades["LF-5003"]["trade_status"] == "TRADE_CLOSED"
    assert beyond["sub_code"] == "ACQ.TRADE_STATUS_ERROR"
    assert gateway.refunded_total("LF-5003") == Decimal("30.00")


@pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc"])
def test_refund_refuses_amounts_that_are_not_money(gateway, client, amount):
    gateway.pay("LF-5004", "30.00")
    result = client.api_alipay_trade_refund(amount, out_trade_no="LF-5004", out_request_no="R1")
    assert result["sub_code"] == "ACQ.INVALID_PARAMETER"
    assert gateway.refunded_total("LF-5004") == 0


def test_refund_of_an_unpaid_or_unknown_trade_is_refused(gateway, client):
    gateway.add_trade("LF-5005", "30.00")
    waiting = client.api_alipay_trade_refund("1.00", out_trade_no="LF-5005", out_request_no="R1")
    unknown = client.api_alipay_trade_refund("1.00", out_trade_no="LF-5404", out_request_no="R2")
    assert waiting["sub_code"] == "ACQ.TRADE_STATUS_ERROR"
    assert unknown["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_refund_by_trade_no_alone_finds_the_trade(gateway, client):
    trade_no = gateway.pay("LF-5006", "30.00")
    result = client.api_alipay_trade_refund("30.00", trade_no=trade_no, out_request_no="R1")
    assert result["code"] == "10000" and result["out_trade_no"] == "LF-5006"


def test_a_refund_signed_by_a_stranger_is_refused_and_refunds_nothing(
    gateway, stranger_keys, alipay_keys
):
    gateway.pay("LF-5007", "30.00")
    stranger = make_client(gateway, stranger_keys.private_pem, alipay_keys.public_pem)
    with pytest.raises(AliPayException):
        stranger.api_alipay_trade_refund("30.00", out_trade_no="LF-5007", out_request_no="R1")
    assert gateway.requests[-1]["signature_ok"] is False
    assert gateway.refunded_total("LF-5007") == 0


def test_refund_query_finds_a_made_refund_and_not_one_never_received(gateway, client):
    trade_no = gateway.pay("LF-5008", "30.00")
    client.api_alipay_trade_refund("12.50", out_trade_no="LF-5008", out_request_no="R1")

    found = client.api_alipay_trade_fastpay_refund_query("R1", out_trade_no="LF-5008")
    missing = client.api_alipay_trade_fastpay_refund_query("R2", out_trade_no="LF-5008")
    unknown = client.api_alipay_trade_fastpay_refund_query("R1", out_trade_no="LF-5404")

    assert found["code"] == "10000" and found["refund_status"] == "REFUND_SUCCESS"
    assert (found["refund_amount"], found["total_amount"]) == ("12.50", "30.00")
    assert (found["out_request_no"], found["trade_no"]) == ("R1", trade_no)
    assert missing["code"] == "10000" and "refund_amount" not in missing
    assert unknown["sub_code"] == "ACQ.TRADE_NOT_EXIST"


def test_lost_answer_mode_refunds_then_answers_too_late(gateway, app_keys, alipay_keys):
    client = make_client(gateway, app_keys.private_pem, alipay_keys.public_pem, timeout=0.5)
    gateway.pay("LF-5009", "30.00")
    gateway.mode, gateway.delay = "lost_answer", 3
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        client.api_alipay_trade_refund("30.00", out_trade_no="LF-5009", out_request_no="R1")
    assert gateway.refunded_total("LF-5009") == Decimal("30.00")  # done, answer lost
    started = time.monotonic()
    found = client.api_alipay_trade_fastpay_refund_query("R1", out_trade_no="LF-5009")
    assert found["refund_amount"] == "30.00" and time.monotonic() - started < 0.5


# --- the cashier's core behind the fake --------------------------------------------------------


def test_the_fake_answers_from_the_cashiers_trade_book(gateway, client):
    paid_at = datetime(2026, 11, 25, 10, 0, 0)
    gateway.book.put(Trade("LF-6001", "T-6001", "TRADE_SUCCESS", Decimal("8.00"), paid_at=paid_at))

    queried = client.api_alipay_trade_query(out_trade_no="LF-6001")
    refunded = client.api_alipay_trade_refund("8.00", trade_no="T-6001", out_request_no="R1")

    assert (queried["trade_no"], queried["send_pay_date"]) == ("T-6001", "2026-11-25 10:00:00")
    assert refunded["send_back_fee"] == "8.00"  # a field only the cashier's answer has
    assert gateway.book.trades["LF-6001"].refunded_amount == Decimal("8.00")
    assert gateway.book.trades["LF-6001"].status == "TRADE_CLOSED"


def test_a_console_refund_counts_toward_the_cap_and_survives_replacing_the_trade(gateway, client):
    gateway.pay("LF-6002", "30.00")
    gateway.add_refund("LF-6002", "console", "25.00")
    gateway.pay("LF-6002", "30.00")  # a test marking it paid again refunds nothing back

    too_much = client.api_alipay_trade_refund("5.01", out_trade_no="LF-6002", out_request_no="R1")
    rest = client.api_alipay_trade_refund("5.00", out_trade_no="LF-6002", out_request_no="R2")

    assert too_much["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert rest["refund_fee"] == "30.00"
    assert set(gateway.refunds["LF-6002"]) == {"console", "R2"}
