"""POST order/<out_trade_no>/pay/: where to pay one of my open orders again (去支付 in 我的订单,
or back from a cashier left early), for the same trade at the order's own amount, on the
cashier asked; nothing about the order changes."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.order.models import Order
from tests.conftest import access_token
from tests.factories import UserFactory
from tests.support.alipay import rsa2_verify, signing_string

from .conftest import PAY_URL

pytestmark = pytest.mark.django_db


def pay_again_url(order: Order) -> str:
    return f"{PAY_URL.removesuffix('pay/')}{order.out_trade_no}/pay/"


def signed(pay_url: str) -> tuple[dict[str, str], dict]:
    params = dict(parse_qsl(urlsplit(pay_url).query, keep_blank_values=True))
    return params, json.loads(params["biz_content"])


def snapshot(order: Order) -> tuple:
    order.refresh_from_db()
    return order.order_status, order.total_amount, order.expires_at, order.updated_time


@pytest.fixture
def open_order(alipay, place, course) -> Order:
    response, order = place([course], "99.90")
    assert response.status_code == 201, response.json()
    return order


@pytest.mark.parametrize(
    ("channel", "method", "product_code"),
    [
        ({}, "alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
        ({"pay_channel": "wap"}, "alipay.trade.wap.pay", "QUICK_WAP_WAY"),
    ],
    ids=["page", "wap"],
)
def test_an_open_order_is_signed_again_for_the_same_trade_and_amount(
    auth_client, alipay_keys, open_order, course, channel, method, product_code
):
    before = snapshot(open_order)

    response = auth_client.post(pay_again_url(open_order), channel, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["out_trade_no"] == open_order.out_trade_no
    params, biz = signed(response.json()["pay_url"])
    assert params["method"] == method and biz["product_code"] == product_code
    assert rsa2_verify(signing_string(params), params["sign"], alipay_keys.app.public_pem)
    assert (biz["out_trade_no"], biz["total_amount"]) == (open_order.out_trade_no, "99.90")
    assert biz["time_expire"] == timezone.localtime(open_order.expires_at).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    if "quit_url" in biz:  # the phone cashier's way back: the course, offering to pay or cancel
        assert urlsplit(biz["quit_url"]).path == f"/course/{course.pk}"
    assert snapshot(open_order) == before and Order.objects.count() == 1


def test_another_buyers_order_is_a_404_and_tells_nothing(alipay, open_order):
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(UserFactory())}")

    response = stranger.post(pay_again_url(open_order), {}, format="json")

    assert response.status_code == 404
    assert "pay_url" not in response.json()


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Order.Status.PAID, "已支付"),
        (Order.Status.CANCELLED, "已取消"),
        (Order.Status.TIMED_OUT, "超时"),
    ],
)
def test_an_order_no_longer_open_is_a_409_that_changes_nothing(
    auth_client, open_order, status, words
):
    Order.objects.filter(pk=open_order.pk).update(order_status=status)
    before = snapshot(open_order)

    response = auth_client.post(pay_again_url(open_order), {}, format="json")

    assert response.status_code == 409
    assert words in response.json()["msg"]
    assert snapshot(open_order) == before


def test_an_order_past_its_pay_window_is_a_409_before_the_expiry_job_ran(auth_client, open_order):
    Order.objects.filter(pk=open_order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = auth_client.post(pay_again_url(open_order), {}, format="json")

    assert response.status_code == 409
    assert "支付时间" in response.json()["msg"]
    open_order.refresh_from_db()
    assert open_order.order_status == Order.Status.UNPAID  # the expiry job's to time it out


@pytest.mark.parametrize("channel", ["app", "WAP", "", None, 1, ["wap"]])
def test_an_unknown_channel_is_a_400(auth_client, open_order, channel):
    response = auth_client.post(pay_again_url(open_order), {"pay_channel": channel}, format="json")

    assert response.status_code == 400
    assert "pay_channel" in response.json()["errors"]


def test_without_alipay_it_is_a_503_and_anonymous_a_401(
    settings, auth_client, api_client, open_order
):
    assert api_client.post(pay_again_url(open_order), {}, format="json").status_code == 401
    settings.ALIPAY = None
    assert auth_client.post(pay_again_url(open_order), {}, format="json").status_code == 503


def test_an_unknown_order_number_is_a_404(auth_client, alipay):
    response = auth_client.post(f"{PAY_URL.removesuffix('pay/')}20261207000000000000/pay/", {})

    assert response.status_code == 404
