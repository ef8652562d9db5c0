"""POST order/pay/ with `pay_channel`: `page` (the default) signs Alipay's desktop page payment,
`wap` its phone cashier (alipay.trade.wap.pay) for the same order; notify and settlement are the
same whichever cashier was used."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from django.utils import timezone

from apps.order.models import Order
from tests.support.alipay import rsa2_verify, signing_string

pytestmark = pytest.mark.django_db


def signed_params(pay_url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(pay_url).query, keep_blank_values=True))


def test_wap_signs_the_phone_cashier_with_quit_url_back_to_the_course(
    settings, alipay, alipay_keys, place, course
):
    settings.FRONTEND_URL = "https://shop.example.test"
    response, order = place([course], "99.90", pay_channel="wap")

    assert response.status_code == 201, response.json()
    url = urlsplit(response.json()["pay_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == alipay.url
    params = signed_params(response.json()["pay_url"])
    assert params["method"] == "alipay.trade.wap.pay"
    assert rsa2_verify(signing_string(params), params["sign"], alipay_keys.app.public_pem)
    assert params["notify_url"].endswith("/api/v1/order/success/")
    assert params["return_url"].endswith("/pay/success")
    biz = json.loads(params["biz_content"])
    assert biz["product_code"] == "QUICK_WAP_WAY"
    assert biz["out_trade_no"] == order.out_trade_no
    assert biz["total_amount"] == "99.90"
    assert biz["subject"] == order.subject
    assert biz["time_expire"] == timezone.localtime(order.expires_at).strftime("%Y-%m-%d %H:%M:%S")
    quit_url = urlsplit(biz["quit_url"])
    assert f"{quit_url.scheme}://{quit_url.netloc}{quit_url.path}" == (
        f"https://shop.example.test/course/{course.pk}"
    )
    assert parse_qs(quit_url.query) == {"unpaid": [order.out_trade_no]}


@pytest.mark.parametrize("extra", [{}, {"pay_channel": "page"}], ids=["absent", "page"])
def test_page_stays_the_default_the_tutorial_client_gets(alipay, place, course, extra):
    response, _ = place([course], "99.90", **extra)

    assert response.status_code == 201
    params = signed_params(response.json()["pay_url"])
    assert params["method"] == "alipay.trade.page.pay"
    assert json.loads(params["biz_content"])["product_code"] == "FAST_INSTANT_TRADE_PAY"


def test_an_open_order_is_handed_out_again_on_the_phone_for_the_same_trade(alipay, place, course):
    first, order = place([course], "99.90")
    again, same = place([course], "99.90", pay_channel="wap")

    assert (first.status_code, again.status_code) == (201, 200)
    assert same.pk == order.pk and Order.objects.count() == 1
    biz = json.loads(signed_params(again.json()["pay_url"])["biz_content"])
    assert biz["out_trade_no"] == order.out_trade_no and biz["total_amount"] == "99.90"


@pytest.mark.parametrize("channel", ["app", "WAP", "", None, 1, ["wap"]])
def test_an_unknown_channel_is_a_400_that_writes_nothing(alipay, place, course, channel):
    response, _ = place([course], "99.90", pay_channel=channel)

    assert response.status_code == 400
    assert "pay_channel" in response.json()["errors"]
    assert not Order.objects.exists()


def test_a_free_course_on_the_phone_is_granted_without_a_pay_url(alipay, place, user):
    from tests.factories import CourseFactory

    free = CourseFactory(price=Decimal("0.00"))
    response, order = place([free], "0.00", pay_channel="wap")

    assert response.status_code == 201
    assert response.json()["pay_url"] is None
    assert order is None and user.entitlements.filter(course=free, order=None).exists()


def test_a_wap_order_settles_through_the_same_notify(alipay, place, course, send_notify, user):
    _, order = place([course], "99.90", pay_channel="wap")

    answer = send_notify(order)

    assert answer.content == b"success"
    order.refresh_from_db()
    assert order.is_paid and user.entitlements.filter(course=course).exists()


@pytest.mark.parametrize(
    ("channel", "method"),
    [("page", "alipay.trade.page.pay"), ("wap", "alipay.trade.wap.pay")],
)
def test_placement_signs_once_for_the_channel_asked(
    monkeypatch, alipay, user, course, channel, method
):
    from apps.order import services
    from libs import iPay

    signed: list[str] = []
    client = iPay.get_client()
    for name in ("page_pay_url", "wap_pay_url"):
        original = getattr(client, name)
        monkeypatch.setattr(
            client, name, lambda *a, _o=original, _n=name, **kw: signed.append(_n) or _o(*a, **kw)
        )
    monkeypatch.setattr(iPay, "get_client", lambda: client)

    placed = services.place_order(
        buyer=user, course_ids=[course.pk], total_amount=Decimal("99.90"), pay_channel=channel
    )

    assert signed == [f"{channel}_pay_url"]
    assert signed_params(placed.pay_url)["method"] == method
