"""Flash sales built the way staff make them, and buying through the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.promotion.models import FlashSale
from tests.conftest import access_token
from tests.factories import CourseFactory
from tests.order.conftest import alipay, alipay_keys, gateway, no_alipay  # noqa: F401

LIST_URL = "/api/v1/promotion/flash/"


def buy_url(sale: FlashSale) -> str:
    return f"/api/v1/promotion/flash/{sale.pk}/buy/"


def make_sale(*, seats: int = 10, starts_in=timedelta(hours=-1), lasts=timedelta(days=2), **extra):
    course = extra.pop("course", None) or CourseFactory(price=Decimal("199.00"))
    starts_at = timezone.now() + starts_in
    return FlashSale.objects.create(
        course=course,
        sale_price=extra.pop("sale_price", Decimal("9.90")),
        seats=seats,
        starts_at=starts_at,
        ends_at=starts_at + lasts,
    )


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"jwt {access_token(user)}")
    return client


@pytest.fixture
def sale(db) -> FlashSale:
    return make_sale()
