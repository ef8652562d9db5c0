"""Claims and placements at the same instant on a real MariaDB server: the stock is never
oversold, and one coupon goes into one order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.exceptions import APIException

from apps.coupon import services
from apps.coupon.models import UserCoupon
from apps.order import services as orders
from apps.order.models import Order
from tests.factories import CourseFactory, UserFactory
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


def test_one_coupon_in_ten_placements_at_once_goes_into_exactly_one_order(alipay):
    """Ten placements by one buyer, each for another course, all with the same coupon: the
    buyer's lock makes them take turns and the first holds the coupon; the others are refused
    (409) with nothing written."""
    buyer = UserFactory()
    courses = CourseFactory.create_batch(10, price=Decimal("50.00"))
    held = services.claim_coupon(buyer, coupon_id=CouponFactory().pk)
    barrier = threading.Barrier(10)

    def place(course) -> int:
        try:
            barrier.wait(timeout=30)
            orders.place_order(
                buyer=buyer,
                course_ids=[course.pk],
                total_amount=Decimal("40.00"),
                user_coupon_id=held.pk,
            )
            return 201
        except APIException as exc:
            return exc.status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = [f.result(timeout=120) for f in [pool.submit(place, c) for c in courses]]

    assert sorted(answers) == [201] + [409] * 9
    [order] = Order.objects.filter(user=buyer)
    held.refresh_from_db()
    assert (held.status, held.order_id) == (UserCoupon.Status.HELD, order.pk)
