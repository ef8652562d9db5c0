"""The local cashier answers the server-to-server API as Alipay does, through python-alipay-sdk."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alipay.exceptions import AliPayException

from apps.cashier.models import CashierRefund, CashierTrade
from libs import iPay
from tests.cashier.conftest import fetch


def _pay(local_cashier, placed) -> None:
    ticket = fetch(placed.pay_url).ticket
    assert fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": ticket}).status == 302


def test_trade_query_says_not_exist_before_the_page_then_waiting_then_paid(local_cashier, place):
    placed = place()
    client = iPay.get_client()
    no = placed.order.out_trade_no

    assert client.query_trade(no) is None
    fetch(placed.pay_url)
    waiting = client.query_trade(no)
    _pay(local_cashier, placed)
    paid = client.query_trade(no)

    assert waiting.trade_status == "WAIT_BUYER_PAY" and not waiting.is_paid
    assert paid.is_paid
    assert paid.total_amount == Decimal("99.90")
    assert paid.trade_no == CashierTrade.objects.get().trade_no
    assert paid.paid_at is not None


def test_trade_close_closes_an_open_trade_and_refuses_a_paid_one(local_cashier, place, buyer):
    from tests.factories import CourseFactory

    client = iPay.get_client()
    never_opened = place()
    opened = place([CourseFactory(price=Decimal("10.00"))])
    fetch(opened.pay_url)
    paid = place([CourseFactory(price=Decimal("20.00"))])
    _pay(local_cashier, paid)

    assert client.close_trade(never_opened.order.out_trade_no) == "ACQ.TRADE_NOT_EXIST"
    assert client.close_trade(opened.order.out_trade_no) == "closed"
    assert client.query_trade(opened.order.out_trade_no).trade_status == "TRADE_CLOSED"
    assert client.close_trade(paid.order.out_trade_no) == "ACQ.TRADE_STATUS_ERROR"


def test_refunds_move_money_once_per_request_number_and_never_beyond_the_total(
    local_cashier, place
):
    placed = place()
    _pay(local_cashier, placed)
    sdk = iPay.get_client().sdk
    no = placed.order.out_trade_no

    first = sdk.api_alipay_trade_refund("40.00", out_trade_no=no, out_request_no="R1")
    again = sdk.api_alipay_trade_refund("40.00", out_trade_no=no, out_request_no="R1")
    too_much = sdk.api_alipay_trade_refund("60.00", out_trade_no=no, out_request_no="R2")
    rest = sdk.api_alipay_trade_refund("59.90", out_trade_no=no, out_request_no="R3")

    assert (first["code"], first["fund_change"], first["refund_fee"]) == ("10000", "Y", "40.00")
    assert (again["code"], again["fund_change"], again["refund_fee"]) == ("10000", "N", "40.00")
    assert too_much["code"] == "40004"
    assert too_much["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    assert (rest["fund_change"], rest["refund_fee"]) == ("Y", "99.90")
    assert CashierRefund.objects.count() == 2
    # A fully refunded trade is closed, as Alipay does.
    assert iPay.get_client().query_trade(no).trade_status == "TRADE_CLOSED"


def test_a_changed_repeat_and_a_refund_of_a_fully_refunded_trade_are_refused(local_cashier, place):
    placed = place()
    _pay(local_cashier, placed)
    sdk = iPay.get_client().sdk
    no = placed.order.out_trade_no

    sdk.api_alipay_trade_refund("99.90", out_trade_no=no, out_request_no="R1")
    changed = sdk.api_alipay_trade_refund("9.90", out_trade_no=no, out_request_no="R1")
    beyond = sdk.api_alipay_trade_refund("0.01", out_trade_no=no, out_request_no="R2")

    assert changed["sub_code"] == "ACQ.DISCORDANT_REPEAT_REQUEST"
    assert beyond["sub_code"] == "ACQ.TRADE_STATUS_ERROR"
    assert CashierRefund.objects.count() == 1
    assert CashierTrade.objects.get().refunded_amount == Decimal("99.90")


def test_refund_query_finds_a_refund_by_request_number_and_answers_empty_for_another(
    local_cashier, place
):
    placed = place()
    _pay(local_cashier, placed)
    sdk = iPay.get_client().sdk
    no = placed.order.out_trade_no
    sdk.api_alipay_trade_refund("99.90", out_trade_no=no, out_request_no="R1")

    found = sdk.api_alipay_trade_fastpay_refund_query("R1", out_trade_no=no)
    missing = sdk.api_alipay_trade_fastpay_refund_query("R9", out_trade_no=no)

    assert found["code"] == "10000"
    assert (found["refund_amount"], found["refund_status"]) == ("99.90", "REFUND_SUCCESS")
    assert found["total_amount"] == "99.90"
    assert missing["code"] == "10000" and "refund_amount" not in missing


def test_refunding_an_unpaid_trade_is_refused(local_cashier, place):
    placed = place()
    fetch(placed.pay_url)

    answer = iPay.get_client().sdk.api_alipay_trade_refund(
        "1.00", out_trade_no=placed.order.out_trade_no
    )

    assert (answer["code"], answer["sub_code"]) == ("40004", "ACQ.TRADE_STATUS_ERROR")


def test_an_api_call_signed_with_another_key_is_refused_by_the_gateway(
    local_cashier, place, settings, tmp_path
):
    from apps.cashier.devkeys import ensure_dev_keys

    placed = place()
    stranger = ensure_dev_keys(tmp_path / "stranger")
    settings.ALIPAY = {**settings.ALIPAY, "APP_PRIVATE_KEY_FILE": str(stranger.app_private)}

    # The real gateway answers unsigned; the SDK raises, our client calls Alipay unavailable.
    with pytest.raises(iPay.AlipayUnavailable):
        iPay.get_client().query_trade(placed.order.out_trade_no)
    with pytest.raises(AliPayException):
        iPay.get_client().sdk.api_alipay_trade_close(out_trade_no=placed.order.out_trade_no)
