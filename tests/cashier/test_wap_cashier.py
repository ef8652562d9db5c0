"""The local cashier's phone page: a wap pay URL from order/pay/ opens it, 确认付款 settles the
order through the same notify and return page, 取消 goes to the wap request's quit_url."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.cashier.models import CashierTrade
from apps.order.models import Order
from libs import iPay
from tests.cashier.conftest import fetch
from tests.conftest import access_token


@pytest.fixture
def pay_on_phone(local_cashier, buyer, paid_course):
    """POST order/pay/ with pay_channel=wap as the storefront does on a phone; returns the body."""

    def do(channel: str = "wap") -> dict:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(buyer)}")
        body = {"courses": [paid_course.pk], "total_amount": "99.90", "pay_channel": channel}
        response = client.post("/api/v1/order/pay/", body, format="json")
        assert response.status_code in (200, 201), response.json()
        return response.json()

    return do


def test_a_wap_pay_url_opens_the_phone_page_and_paying_settles_and_returns(
    local_cashier, pay_on_phone, buyer, paid_course
):
    body = pay_on_phone()
    page = fetch(body["pay_url"])

    assert page.status == 200
    assert "手机收银台" in page.text and "手机网站支付" in page.text
    assert "¥99.90" in page.text and body["out_trade_no"] in page.text
    trade = CashierTrade.objects.get(out_trade_no=body["out_trade_no"])
    assert trade.method == "alipay.trade.wap.pay"
    assert (
        trade.quit_url
        == f"{settings.FRONTEND_URL}/course/{paid_course.pk}?unpaid={trade.out_trade_no}"
    )

    answer = fetch(f"{local_cashier.site_url}/cashier/confirm/", {"ticket": page.ticket})

    assert answer.status == 302
    target, query = answer.location.split("?", 1)
    assert target.endswith("/pay/success")
    returned = dict(parse_qsl(query, keep_blank_values=True))
    assert iPay.get_client().verify_notify(returned)
    assert returned["method"] == "alipay.trade.wap.pay.return"
    order = Order.objects.get(out_trade_no=body["out_trade_no"])
    assert order.is_paid and order.trade_no == returned["trade_no"]
    assert buyer.entitlements.filter(course=paid_course).exists()


def test_cancel_on_the_phone_page_goes_to_quit_url_and_leaves_the_order_payable(
    local_cashier, pay_on_phone, paid_course
):
    body = pay_on_phone()
    ticket = fetch(body["pay_url"]).ticket

    answer = fetch(f"{local_cashier.site_url}/cashier/cancel/", {"ticket": ticket})

    assert answer.status == 302
    assert answer.location == (
        f"{settings.FRONTEND_URL}/course/{paid_course.pk}?unpaid={body['out_trade_no']}"
    )
    assert Order.objects.get(out_trade_no=body["out_trade_no"]).order_status == (
        Order.Status.UNPAID
    )
    assert fetch(body["pay_url"]).status == 200


def test_the_same_trade_opened_on_a_computer_then_on_a_phone_shows_the_phone_page(
    local_cashier, pay_on_phone
):
    first = pay_on_phone("page")
    assert "手机收银台" not in fetch(first["pay_url"]).text

    second = pay_on_phone("wap")

    assert second["out_trade_no"] == first["out_trade_no"]
    assert "手机收银台" in fetch(second["pay_url"]).text
    assert CashierTrade.objects.count() == 1
