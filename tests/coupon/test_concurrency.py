"""Claims at the same instant on a real MariaDB server: the stock is never oversold."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from apps.coupon import services
from apps.coupon.models import UserCoupon
from tests.factories import UserFactory
from utils.exceptions import Conflict

from .factories import CouponFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]

WORKERS = 50  # connections at once (the throwaway server allows 200)


def test_500_shoppers_claiming_the_last_100_get_exactly_100():
    assert connection.vendor == "mysql"
    coupon = CouponFactory(total_stock=150)
    coupon.issued = 50
    coupon.save(update_fields=["issued"])
    users = UserFactory.create_batch(500)
    queue = list(users)
    lock = threading.Lock()
    barrier = threading.Barrier(WORKERS)

    def worker() -> list[str]:
        outcomes = []
        try:
            barrier.wait(timeout=60)
            while True:
                with lock:
                    if not queue:
                        return outcomes
                    user = queue.pop()
                try:
                    services.claim_coupon(user, coupon_id=coupon.pk)
                    outcomes.append("claimed")
                except Conflict:
                    outcomes.append("sold out")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(worker) for _ in range(WORKERS)]
        outcomes = [o for f in futures for o in f.result(timeout=300)]

    assert outcomes.count("claimed") == 100
    assert outcomes.count("sold out") == 400
    coupon.refresh_from_db()
    assert coupon.issued == 150
    assert UserCoupon.objects.filter(coupon=coupon).count() == 100


def test_one_shopper_claiming_ten_times_at_once_gets_the_per_user_limit():
    coupon = CouponFactory(per_user_limit=2)
    user = UserFactory()
    barrier = threading.Barrier(10)

    def claim() -> bool:
        try:
            barrier.wait(timeout=30)
            services.claim_coupon(user, coupon_id=coupon.pk)
            return True
        except Conflict:
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(claim) for _ in range(10)]]

    assert results.count(True) == 2
    assert UserCoupon.objects.filter(coupon=coupon, user=user).count() == 2
