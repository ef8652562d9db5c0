"""The flash-sale drill on a real MariaDB server: a crowd buying at the same instant never
gets more seats than the sale has, and one buyer never gets two."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.order import services as order_services
from apps.order.models import Order
from apps.promotion.models import FlashSeat
from tests.factories import UserFactory
from tests.order.test_concurrency import run_together

from .conftest import buy_url, client_for, make_sale

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


def test_forty_buyers_at_once_for_ten_seats_get_exactly_ten_orders(alipay):
    assert connection.vendor == "mysql"
    sale = make_sale(seats=10)
    clients = iter([client_for(u) for u in UserFactory.create_batch(40)])
    lock = threading.Lock()

    def buy() -> int:
        with lock:
            client = next(clients)
        return client.post(buy_url(sale)).status_code

    answers = run_together(40, buy)

    assert sorted(answers) == [201] * 10 + [409] * 30
    assert Order.objects.count() == 10
    assert FlashSeat.objects.filter(sale=sale, holding=True).exclude(order=None).count() == 10
    sale.refresh_from_db()
    assert sale.seats_left == 0


def test_one_buyer_hammering_at_once_gets_one_seat(alipay, user):
    sale = make_sale(seats=10)

    answers = run_together(12, lambda: client_for(user).post(buy_url(sale)).status_code)

    assert sorted(answers) == [201] + [409] * 11
    assert Order.objects.filter(user=user).count() == 1
    sale.refresh_from_db()
    assert sale.seats_left == 9


def test_seats_of_expired_orders_are_sold_again_to_a_new_crowd(alipay):
    sale = make_sale(seats=5)
    first = UserFactory.create_batch(5)
    for buyer in first:
        assert client_for(buyer).post(buy_url(sale)).status_code == 201
    Order.objects.filter(user__in=first[:3]).update(
        expires_at=timezone.now() - timedelta(minutes=10)
    )
    assert len(order_services.expire_orders()) == 3
    clients = iter([client_for(u) for u in UserFactory.create_batch(10)])
    lock = threading.Lock()

    def buy() -> int:
        with lock:
            client = next(clients)
        return client.post(buy_url(sale)).status_code

    assert sorted(run_together(10, buy)) == [201] * 3 + [409] * 7
    sale.refresh_from_db()
    assert sale.seats_left == 0
    assert FlashSeat.objects.filter(sale=sale, holding=True).count() == 5
