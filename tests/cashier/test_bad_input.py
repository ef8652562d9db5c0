"""Whatever reaches the cashier, it answers clearly (a page or Alipay's JSON), never a 500."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from apps.cashier import protocol
from apps.cashier.devkeys import DEV_APP_ID
from apps.cashier.models import CashierTrade
from tests.cashier.conftest import fetch


def signed_query(local_cashier, **params: str) -> str:
    """A gateway URL with `params` signed by the app key, as the shop's SDK would sign them."""
    base = {
        "app_id": DEV_APP_ID,
        "method": protocol.PAGE_PAY_METHOD,
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2026-11-25 10:00:00",
        "version": "1.0",
        **params,
    }
    key = local_cashier.keys.app_private.read_text()
    base["sign"] = protocol.rsa2_sign(protocol.signing_string(base), key)
    return f"{local_cashier.gateway_url}?{urlencode(base)}"


def biz(**fields) -> str:
    return json.dumps(
        {"out_trade_no": "NO1", "subject": "课程", "total_amount": "9.90", **fields},
        ensure_ascii=False,
    )


@pytest.mark.parametrize(
    ("biz_content", "message"),
    [
        ("not json", "业务参数格式错误"),
        ('["a list"]', "业务参数格式错误"),
        (biz(out_trade_no=""), "商户订单号无效"),
        (biz(out_trade_no="x" * 65), "商户订单号无效"),
        (biz(out_trade_no=123), "商户订单号无效"),
        (biz(subject=" "), "订单标题无效"),
        (biz(total_amount={"yuan": 1}), "订单金额无效"),
        (biz(time_expire="tomorrow"), "time_expire"),
    ],
)
def test_a_signed_but_malformed_page_pay_gets_a_page_saying_what_is_wrong(
    local_cashier, biz_content, message
):
    page = fetch(signed_query(local_cashier, biz_content=biz_content))

    assert page.status == 400
    assert message in page.text
    assert not CashierTrade.objects.exists()


def test_the_same_order_number_with_another_amount_is_refused(local_cashier):
    assert fetch(signed_query(local_cashier, biz_content=biz())).status == 200

    page = fetch(signed_query(local_cashier, biz_content=biz(total_amount="0.01")))

    assert page.status == 400
    assert "ACQ.CONTEXT_INCONSISTENT" in page.text
    assert str(CashierTrade.objects.get().total_amount) == "9.90"


def test_an_unsigned_or_empty_call_gets_alipays_json_error(local_cashier):
    empty = fetch(local_cashier.gateway_url)
    unsigned = fetch(f"{local_cashier.gateway_url}?method=alipay.trade.query&biz_content=x")

    assert json.loads(empty.text)["error_response"]["sub_code"] == "isv.missing-method"
    body = json.loads(unsigned.text)["alipay_trade_query_response"]
    assert body["sub_code"] == "isv.missing-signature"


@pytest.mark.parametrize("refund_amount", [{"a": 1}, "-1", "0.001", None])
def test_a_refund_with_a_bad_amount_is_refused_as_an_invalid_parameter(
    local_cashier, refund_amount
):
    from libs import iPay

    sdk = iPay.get_client().sdk
    answer = sdk.api_alipay_trade_refund(refund_amount, out_trade_no="NO1")

    # No such trade is checked first, as Alipay does.
    assert answer["sub_code"] == "ACQ.TRADE_NOT_EXIST"
    fetch(signed_query(local_cashier, biz_content=biz()))
    CashierTrade.objects.update(status="TRADE_SUCCESS", paid_at="2026-11-25T10:00:00Z")
    answer = sdk.api_alipay_trade_refund(refund_amount, out_trade_no="NO1")
    assert (answer["code"], answer["sub_code"]) == ("40004", "ACQ.INVALID_PARAMETER")


def test_confirm_and_cancel_need_a_post_with_a_ticket(local_cashier):
    site = local_cashier.site_url

    assert fetch(f"{site}/cashier/confirm/").status == 405
    assert fetch(f"{site}/cashier/confirm/", {}).status == 400
    assert fetch(f"{site}/cashier/cancel/", {"ticket": "x"}).location == "/"
