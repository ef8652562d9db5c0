"""The cashier's protocol core, without Django or HTTP: what python-alipay-sdk accepts."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from alipay import AliPay
from alipay.exceptions import AliPayValidationError

from apps.cashier import api, protocol
from apps.cashier.devkeys import DEV_APP_ID, ensure_dev_keys

NOW = datetime(2026, 11, 25, 10, 0, 0)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    return {p.stem: p.read_text() for p in folder.folder.glob("*.pem")}


@pytest.fixture
def sdk(keys) -> AliPay:
    return AliPay(
        appid=DEV_APP_ID,
        app_notify_url=None,
        app_private_key_string=keys["app_private"],
        alipay_public_key_string=keys["alipay_public"],
        sign_type="RSA2",
    )


def page_pay_params(sdk: AliPay, **biz) -> dict[str, str]:
    fields = {"subject": "课程", "out_trade_no": "NO1", "total_amount": "99.90", **biz}
    query = sdk.api_alipay_trade_page_pay(
        return_url="http://shop/r", notify_url="http://shop/n", **fields
    )
    return dict(parse_qsl(query, keep_blank_values=True))


def test_a_page_pay_query_signed_by_the_sdk_parses_into_what_the_page_shows(sdk, keys):
    params = page_pay_params(sdk, time_expire="2026-11-25 10:15:00")

    request = protocol.parse_page_pay(params, app_id=DEV_APP_ID, app_public_pem=keys["app_public"])

    assert request == protocol.PagePayRequest(
        out_trade_no="NO1",
        subject="课程",
        total_amount=Decimal("99.90"),
        notify_url="http://shop/n",
        return_url="http://shop/r",
        time_expire=datetime(2026, 11, 25, 10, 15),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"app_id": "2021000000000000"}, "isv.invalid-app-id"),
        ({"sign_type": "RSA"}, "isv.invalid-signature-type"),
        ({"sign": "bm90IGEgc2lnbmF0dXJl"}, "isv.invalid-signature"),
        ({"sign": "%%%"}, "isv.invalid-signature"),
        ({"notify_url": "http://evil/n"}, "isv.invalid-signature"),
        ({"method": "alipay.trade.query"}, "不支持的接口方法"),
    ],
)
def test_a_changed_page_pay_query_is_refused_with_alipays_reason(sdk, keys, change, message):
    params = {**page_pay_params(sdk), **change}

    with pytest.raises(protocol.PagePayRefused, match=message):
        protocol.parse_page_pay(params, app_id=DEV_APP_ID, app_public_pem=keys["app_public"])


@pytest.mark.parametrize("amount", ["0", "-1", "0.001", "abc", "NaN", "1e9", "100000000.01"])
def test_an_amount_alipay_would_refuse_is_refused(sdk, keys, amount):
    params = page_pay_params(sdk, total_amount=amount)

    with pytest.raises(protocol.PagePayRefused, match="total_amount"):
        protocol.parse_page_pay(params, app_id=DEV_APP_ID, app_public_pem=keys["app_public"])


def test_notify_and_return_queries_verify_with_the_sdk(sdk, keys):
    trade = protocol.Trade("NO1", "2026X", "TRADE_SUCCESS", Decimal("99.9"), "课程", paid_at=NOW)

    notify = protocol.sign_notify(
        protocol.notify_params(trade, app_id=DEV_APP_ID, seller_id="2088", notify_id="n1", now=NOW),
        keys["alipay_private"],
    )
    back = protocol.sign_notify(
        protocol.return_params(trade, app_id=DEV_APP_ID, seller_id="2088", now=NOW),
        keys["alipay_private"],
    )

    for params in (notify, back):
        data = dict(params)
        signature = data.pop("sign")
        assert sdk.verify(data, signature)
    assert notify["total_amount"] == back["total_amount"] == "99.90"
    assert notify["gmt_payment"] == "2026-11-25 10:00:00"
    assert "trade_status" not in back
    forged = {**notify, "total_amount": "0.01"}
    assert not sdk.verify({k: v for k, v in forged.items() if k != "sign"}, forged["sign"])


def call(sdk: AliPay, keys, book, method: str, **biz) -> dict:
    """Sign a call like the SDK, answer it, and read the answer back like the SDK."""
    params = dict(parse_qsl(sdk.sign_data(sdk.build_body(method, biz)), keep_blank_values=True))
    reply = api.answer_api_call(
        params, app_id=DEV_APP_ID, app_public_pem=keys["app_public"], book=book, now=NOW
    )
    raw = reply.render(keys["alipay_private"])
    return sdk._verify_and_return_sync_response(raw, api.response_key(method))


def test_query_close_refund_and_refund_query_read_back_through_the_sdk(sdk, keys):
    book = api.MemoryTradeBook()
    book.put(protocol.Trade("OPEN", "T1", "WAIT_BUYER_PAY", Decimal("10.00")))
    book.put(protocol.Trade("PAID", "T2", "TRADE_SUCCESS", Decimal("10.00"), paid_at=NOW))

    missing = call(sdk, keys, book, "alipay.trade.query", out_trade_no="NOPE")
    paid = call(sdk, keys, book, "alipay.trade.query", trade_no="T2")
    closed = call(sdk, keys, book, "alipay.trade.close", out_trade_no="OPEN")
    refund = call(
        sdk, keys, book, "alipay.trade.refund", out_trade_no="PAID", refund_amount="10.00"
    )
    found = call(
        sdk,
        keys,
        book,
        "alipay.trade.fastpay.refund.query",
        out_trade_no="PAID",
        out_request_no="PAID",
    )

    assert (missing["code"], missing["sub_code"]) == ("40004", "ACQ.TRADE_NOT_EXIST")
    assert (paid["trade_status"], paid["send_pay_date"]) == ("TRADE_SUCCESS", "2026-11-25 10:00:00")
    assert closed["code"] == "10000"
    assert book.trades["OPEN"].status == "TRADE_CLOSED"
    assert (refund["fund_change"], refund["refund_fee"]) == ("Y", "10.00")
    assert book.trades["PAID"].status == "TRADE_CLOSED"  # fully refunded
    assert found["refund_amount"] == "10.00"


def test_an_answer_that_was_changed_on_the_way_fails_the_sdks_check(sdk, keys):
    book = api.MemoryTradeBook()
    book.put(protocol.Trade("PAID", "T2", "TRADE_SUCCESS", Decimal("10.00"), paid_at=NOW))
    params = dict(
        parse_qsl(
            sdk.sign_data(sdk.build_body("alipay.trade.query", {"out_trade_no": "PAID"})),
            keep_blank_values=True,
        )
    )
    raw = api.answer_api_call(
        params, app_id=DEV_APP_ID, app_public_pem=keys["app_public"], book=book, now=NOW
    ).render(keys["alipay_private"])

    with pytest.raises(AliPayValidationError):
        sdk._verify_and_return_sync_response(
            raw.replace('"10.00"', '"1000.00"'), "alipay_trade_query_response"
        )


@pytest.mark.parametrize(
    ("params", "sub_code"),
    [
        ({}, "isv.missing-method"),
        ({"method": "alipay.trade.pay"}, "isv.invalid-method"),
        ({"method": "alipay.trade.query"}, "isv.missing-signature"),
        ({"method": "alipay.trade.query", "sign": "x", "app_id": "1"}, "isv.invalid-app-id"),
        (
            {
                "method": "alipay.trade.query",
                "sign": "x",
                "app_id": DEV_APP_ID,
                "sign_type": "RSA2",
            },
            "isv.invalid-signature",
        ),
    ],
)
def test_bad_calls_get_alipays_unsigned_gateway_errors(keys, params, sub_code):
    reply = api.answer_api_call(
        params,
        app_id=DEV_APP_ID,
        app_public_pem=keys["app_public"],
        book=api.MemoryTradeBook(),
        now=NOW,
    )

    body = json.loads(reply.render(keys["alipay_private"]))
    assert not reply.signed
    assert body[reply.key]["sub_code"] == sub_code


def test_a_refund_asked_again_with_another_amount_is_a_discordant_repeat_and_moves_nothing():
    paid = protocol.Trade("PAID", "T2", "TRADE_SUCCESS", Decimal("30.00"), paid_at=NOW)
    after, first, moved = protocol.apply_refund(
        paid, None, out_request_no="R1", amount=Decimal("10.00"), now=NOW
    )
    again = protocol.apply_refund(
        after, first, out_request_no="R1", amount=Decimal("10.00"), now=NOW
    )

    with pytest.raises(protocol.RefundRefused) as changed:
        protocol.apply_refund(after, first, out_request_no="R1", amount=Decimal("9.00"), now=NOW)

    assert (moved, after.refunded_amount, after.status) == (True, Decimal("10.00"), "TRADE_SUCCESS")
    assert again == (after, first, False)
    assert changed.value.sub_code == "ACQ.DISCORDANT_REPEAT_REQUEST"


def test_a_fully_refunded_trade_is_closed_and_refuses_another_refund(sdk, keys):
    book = api.MemoryTradeBook()
    book.put(protocol.Trade("PAID", "T2", "TRADE_SUCCESS", Decimal("30.00"), paid_at=NOW))

    too_much = call(
        sdk, keys, book, "alipay.trade.refund", out_trade_no="PAID", refund_amount="30.01"
    )
    full = call(sdk, keys, book, "alipay.trade.refund", out_trade_no="PAID", refund_amount="30.00")
    beyond = call(
        sdk,
        keys,
        book,
        "alipay.trade.refund",
        out_trade_no="PAID",
        out_request_no="R2",
        refund_amount="0.01",
    )

    assert too_much["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert (full["fund_change"], book.trades["PAID"].status) == ("Y", "TRADE_CLOSED")
    assert beyond["sub_code"] == "ACQ.TRADE_STATUS_ERROR"
    assert book.trades["PAID"].refunded_amount == Decimal("30.00")
