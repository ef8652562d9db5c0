"""Flash-sale seats in Redis (CACHE_URL=redis://…, several app nodes): the gate hands out at
most the seats left, one per buyer, answers a sold-out crowd without the database, and takes
seats back. Run by `make test-redis` (TEST_CACHE_URL); skipped on the embedded cache."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.order import services as order_services
from apps.order.models import Order
from apps.promotion import seats
from apps.promotion.models import FlashSale
from tests.deploy.test_redis_cache import needs_redis
from tests.factories import UserFactory

from .conftest import buy_url, client_for, make_sale

# Seats go back to Redis once the transaction that ended the order commits.
pytestmark = [*needs_redis, pytest.mark.django_db(transaction=True)]


def _redis_state(sale: FlashSale) -> tuple[int, set[int]]:
    left_key, holders_key = seats._keys(sale.pk)
    client = cache._cache.get_client(left_key)
    return int(client.get(left_key)), {int(b) for b in client.smembers(holders_key)}


def test_fifty_takers_on_separate_connections_get_exactly_ten_seats():
    barrier = threading.Barrier(50)

    def take(buyer_id: int) -> seats.Gate:
        barrier.wait(timeout=30)
        return seats.take(777, buyer_id, seats_left=10, ttl_seconds=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(take, range(1, 51)))

    assert answers.count(seats.Gate.TAKEN) == 10
    assert answers.count(seats.Gate.SOLD_OUT) == 40
    winner = answers.index(seats.Gate.TAKEN) + 1
    assert seats.take(777, winner, seats_left=10, ttl_seconds=60) == seats.Gate.HOLDING


def test_a_buy_takes_the_seat_in_redis_and_in_the_database(alipay, user):
    sale = make_sale(seats=3)

    assert client_for(user).post(buy_url(sale)).status_code == 201

    assert _redis_state(sale) == (2, {user.pk})
    sale.refresh_from_db()
    assert sale.seats_left == 2
    assert client_for(user).post(buy_url(sale)).status_code == 409


def test_a_sold_out_crowd_is_answered_from_redis_without_touching_the_sale_row(alipay):
    sale = make_sale(seats=1)
    assert client_for(UserFactory()).post(buy_url(sale)).status_code == 201
    late = client_for(UserFactory())

    with CaptureQueriesContext(connection) as queries:
        assert late.post(buy_url(sale)).status_code == 409

    assert not [q for q in queries if "luffy_flash_seat" in q["sql"] or "UPDATE" in q["sql"]]


def test_cancel_and_expiry_give_the_seat_back_in_redis(alipay):
    sale = make_sale(seats=2)
    first, second = UserFactory.create_batch(2)
    no = client_for(first).post(buy_url(sale)).json()["out_trade_no"]
    assert client_for(second).post(buy_url(sale)).status_code == 201
    assert _redis_state(sale) == (0, {first.pk, second.pk})

    assert client_for(first).post(f"/api/v1/order/{no}/cancel/").status_code == 200
    Order.objects.filter(user=second).update(expires_at=timezone.now() - timedelta(minutes=10))
    assert len(order_services.expire_orders()) == 1

    assert _redis_state(sale) == (2, set())
    assert client_for(UserFactory()).post(buy_url(sale)).status_code == 201


def test_when_redis_forgets_the_sale_the_database_still_keeps_one_seat_per_buyer(alipay, user):
    sale = make_sale(seats=3)
    assert client_for(user).post(buy_url(sale)).status_code == 201
    cache.clear()  # Redis restarted without its data

    assert client_for(user).post(buy_url(sale)).status_code == 409

    sale.refresh_from_db()
    assert sale.seats_left == 2
    assert _redis_state(sale) == (2, set())  # rebuilt from the database, the buyer let go
