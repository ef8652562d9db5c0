"""Staff see how each flash sale went: seats left, unpaid, paid and given back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.order import services as order_services
from apps.order.models import Order
from tests.factories import UserFactory
from tests.support.alipay import random_trade_no

from .conftest import buy_url, client_for, make_sale

pytestmark = pytest.mark.django_db


def test_the_sale_list_counts_seats_unpaid_paid_and_released(alipay, admin_client):
    sale = make_sale(seats=10)
    buyers = UserFactory.create_batch(4)
    numbers = [client_for(b).post(buy_url(sale)).json()["out_trade_no"] for b in buyers]
    order_services.settle_payment(
        numbers[0], trade_no=random_trade_no(), total_amount=Decimal("9.90"), paid_at=timezone.now()
    )
    Order.objects.filter(out_trade_no=numbers[1]).update(
        expires_at=timezone.now() - timedelta(minutes=10)
    )
    order_services.expire_orders()

    page = admin_client.get("/admin/promotion/flashsale/")

    assert page.status_code == 200
    [shown] = page.context["cl"].result_list
    admin = page.context["cl"].model_admin
    counts = [admin.seats_unpaid(shown), admin.seats_paid(shown), admin.seats_released(shown)]
    assert (shown.seats, shown.seats_left, counts) == (10, 7, [2, 1, 1])
    assert "已释放(超时/取消)" in page.content.decode()


def test_a_sale_is_added_in_the_admin_with_all_its_seats_left(admin_client):
    from tests.factories import CourseFactory

    course = CourseFactory()
    start = timezone.localtime() + timedelta(hours=1)
    end = start + timedelta(days=1)
    form = {
        "course": course.pk,
        "sale_price": "19.90",
        "seats": "50",
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.strftime("%Y-%m-%d"),
        "ends_at_1": end.strftime("%H:%M:%S"),
    }

    response = admin_client.post("/admin/promotion/flashsale/add/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    from apps.promotion.models import FlashSale

    sale = FlashSale.objects.get()
    assert (sale.seats, sale.seats_left, sale.sale_price) == (50, 50, Decimal("19.90"))


def test_the_sale_list_reads_the_same_queries_for_2_or_12_sales(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/promotion/flashsale/").status_code == 200
        return len(captured.captured_queries)

    for _sale in range(2):
        make_sale()
    few = queries()
    for _sale in range(10):
        make_sale()
    assert queries() == few
