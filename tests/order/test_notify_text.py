"""The notify log's English details are shown to staff in Chinese (through the catalogue)."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.order.models import PaymentNotification
from apps.order.notify_text import notify_detail_text
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("signature does not verify", "签名验证失败"),
        ("unknown order 'T1'", "未知订单 'T1'"),
        ("amount 1.00 does not match order total 2.00", "付款金额 1.00 与订单总价 2.00 不符"),
        ("settled", "已入账"),
        ("refund recorded", "退款已记录(支付宝后台发起),课程已收回"),
        ("Alipay is not configured", "未配置支付宝"),
        ("something new", "something new"),  # no words for it yet: shown as stored
    ],
)
def test_known_details_are_translated(stored, shown):
    assert notify_detail_text(stored) == shown


@pytest.mark.django_db
def test_the_notify_list_shows_details_in_chinese():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    PaymentNotification.objects.create(out_trade_no="N1", detail="waiting for payment")

    response = client.get("/admin/order/paymentnotification/")

    assert "等待买家付款" in response.text and "waiting for payment" not in response.text
