"""Alipay for real: generated RSA2 keys, signed notifies, and a local gateway for query/close."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from apps.order.models import Order
from libs import iPay
from tests.factories import CourseFactory
from tests.support.alipay import (
    FakeAlipayGateway,
    KeyPair,
    generate_keypair,
    notify_params,
    sign_notify,
)

APP_ID = "2021000122600001"
SELLER_ID = "2088000000000001"
NOTIFY_URL = "/api/v1/order/success/"
PAY_URL = "/api/v1/order/pay/"


@dataclass(frozen=True)
class Keys:
    app: KeyPair  # ours: we sign requests with it, Alipay checks with its public half
    alipay: KeyPair  # Alipay's: it signs notifies and answers, we check with its public half


@pytest.fixture(scope="session")
def alipay_keys() -> Keys:
    return Keys(app=generate_keypair(), alipay=generate_keypair())


@pytest.fixture
def gateway(alipay_keys: Keys):
    with FakeAlipayGateway(
        APP_ID, alipay_keys.app.public_pem, alipay_keys.alipay.private_pem
    ) as gw:
        yield gw
    assert not gw.errors, gw.errors


def alipay_settings(keys: Keys, gateway_url: str, **overrides: Any) -> iPay.AlipaySettings:
    """settings.ALIPAY as settings.py builds it; keyword arguments replace entries of the
    mapping (the variable names without `ALIPAY_`)."""
    conf = {
        "APP_ID": APP_ID,
        "APP_PRIVATE_KEY": keys.app.private_pem,
        "APP_PRIVATE_KEY_FILE": "",
        "PUBLIC_KEY": keys.alipay.public_pem,
        "PUBLIC_KEY_FILE": "",
        "SANDBOX": True,
        "GATEWAY": gateway_url,
        "SELLER_ID": SELLER_ID,
        "NOTIFY_URL": "http://testserver/api/v1/order/success/",
        "RETURN_URL": "http://frontend.test/pay/success",
        "TIMEOUT_SECONDS": 2,
    }
    conf.update(overrides)
    return iPay.settings_from_mapping(conf)


@pytest.fixture
def alipay(settings, alipay_keys: Keys, gateway: FakeAlipayGateway) -> FakeAlipayGateway:
    """Alipay configured with generated keys and pointed at the local gateway."""
    settings.ALIPAY = alipay_settings(alipay_keys, gateway.url)
    return gateway


@pytest.fixture
def no_alipay(settings):
    settings.ALIPAY = None


def signed_notify(keys: Keys, order: Order, **fields: Any) -> dict[str, str]:
    """A notify for `order` as Alipay would send it, signed with Alipay's key."""
    params = notify_params(
        app_id=fields.pop("app_id", APP_ID),
        out_trade_no=fields.pop("out_trade_no", order.out_trade_no),
        total_amount=fields.pop("total_amount", order.total_amount),
        seller_id=fields.pop("seller_id", SELLER_ID),
        **fields,
    )
    return sign_notify(params, keys.alipay.private_pem)


def post_form(client: APIClient, data: dict[str, str]):
    """POST form-encoded, as Alipay delivers notifies."""
    return client.post(
        NOTIFY_URL, urlencode(data), content_type="application/x-www-form-urlencoded"
    )


@pytest.fixture
def send_notify(alipay_keys: Keys):
    """POST a signed notify for an order; returns the response."""

    def send(order: Order, client: APIClient | None = None, **fields: Any):
        data = signed_notify(alipay_keys, order, **fields)
        return post_form(client or APIClient(), data)

    return send


@pytest.fixture
def course(db):
    return CourseFactory(price=Decimal("99.90"))


@pytest.fixture
def place(auth_client):
    """Place an order through the API as the logged-in user; returns (response, Order|None)."""

    def do(courses, total, client: APIClient | None = None, **extra: Any):
        ids = [c.pk for c in courses]
        response = (client or auth_client).post(
            PAY_URL, {"courses": ids, "total_amount": str(total), **extra}, format="json"
        )
        no = response.json().get("out_trade_no") if response.status_code in (200, 201) else None
        return response, (Order.objects.get(out_trade_no=no) if no else None)

    return do


@pytest.fixture
def make_order(alipay, user):
    """Place an order through services.place_order (Alipay configured), then travel in time.

    `status`: PAID settles it through services.settle_payment (as a notify would); CANCELLED and
    TIMED_OUT only set the status. `created_ago` moves created_time into the past;
    `expired_ago` puts expires_at that far in the past (negative: still open). Returns the
    refreshed Order.
    """
    from django.utils import timezone

    from apps.course.models import Course
    from apps.order import services
    from tests.support.alipay import random_trade_no

    def make(
        courses,
        *,
        owner=None,
        status: int = Order.Status.UNPAID,
        created_ago=None,
        expired_ago=None,
    ) -> Order:
        ids = [c.pk for c in courses]
        priced = Course.objects.with_current_price().filter(pk__in=ids)
        total = sum((c.real_price for c in priced), Decimal("0.00"))
        order = services.place_order(buyer=owner or user, course_ids=ids, total_amount=total).order
        now = timezone.now()
        changes = {}
        if created_ago is not None:
            changes["created_time"] = now - created_ago
        if expired_ago is not None:
            changes["expires_at"] = now - expired_ago
        if changes:
            Order.objects.filter(pk=order.pk).update(**changes)
        if status == Order.Status.PAID:
            services.settle_payment(
                order.out_trade_no,
                trade_no=random_trade_no(),
                total_amount=order.total_amount,
                paid_at=now,
            )
        elif status != Order.Status.UNPAID:
            Order.objects.filter(pk=order.pk).update(order_status=status)
        order.refresh_from_db()
        return order

    return make
