"""The promotions block of the admin index: coupon usage and flash-sale results, from orders
placed, paid and expired the way shoppers and the cron job do it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from apps.coupon import services as coupons
from apps.coupon.models import Coupon, UserCoupon
from apps.coupon.selectors import coupon_usage
from apps.order import services as order_services
from apps.order.models import Order
from apps.promotion.selectors import flash_sale_results
from tests.coupon.factories import CouponFactory
from tests.factories import UserFactory
from tests.order.conftest import alipay, alipay_keys, gateway  # noqa: F401  (fixtures)
from tests.promotion.conftest import buy_url, client_for, make_sale
from tests.support.alipay import random_trade_no

pytestmark = pytest.mark.django_db


def _use(held: UserCoupon, discount: str) -> None:
    UserCoupon.objects.filter(pk=held.pk).update(
        status=UserCoupon.Status.USED, discount=Decimal(discount), used_at=timezone.now()
    )


@pytest.fixture
def coupon_history():
    big = CouponFactory(name="满减大券")
    small = CouponFactory(name="小额券")
    CouponFactory(name="未领取")
    retired = CouponFactory(name="停用券", is_active=False)
    shoppers = UserFactory.create_batch(3)
    for shopper in shoppers:
        coupons.claim_coupon(shopper, coupon_id=big.pk)
    _use(UserCoupon.objects.filter(coupon=big)[0], "10.00")
    _use(UserCoupon.objects.filter(coupon=big)[1], "9.99")
    _use(coupons.claim_coupon(shoppers[0], coupon_id=small.pk), "0.50")
    Coupon.objects.filter(pk=retired.pk).update(is_active=True)
    _use(coupons.claim_coupon(shoppers[0], coupon_id=retired.pk), "3.00")
    Coupon.objects.filter(pk=retired.pk).update(is_active=False)


def test_coupon_usage_counts_claimed_used_and_the_discount_to_the_fen(coupon_history):
    usage = coupon_usage()

    shown = [(c.name, c.claimed, c.used, c.discount_given) for c in usage.coupons]
    assert shown == [
        ("满减大券", 3, 2, Decimal("19.99")),
        ("小额券", 1, 1, Decimal("0.50")),
        ("未领取", 0, 0, Decimal("0.00")),
    ]
    # The totals count every coupon, the retired one too.
    assert (usage.claimed, usage.used, usage.discount_given) == (5, 4, Decimal("23.49"))
    assert isinstance(usage.discount_given, Decimal)


def test_coupon_usage_is_two_queries_however_many_coupons(
    coupon_history, django_assert_num_queries
):
    CouponFactory.create_batch(12)
    with django_assert_num_queries(2):
        assert len(coupon_usage().coupons) == 10


def _pay(number: str) -> None:
    order_services.settle_payment(
        number, trade_no=random_trade_no(), total_amount=Decimal("9.90"), paid_at=timezone.now()
    )


@pytest.mark.usefixtures("alipay")
def test_flash_sale_results_count_sold_paid_unpaid_and_released():
    sale = make_sale(seats=10)
    ended = make_sale(seats=5, starts_in=timedelta(days=-3), lasts=timedelta(days=1))
    make_sale(seats=5, starts_in=timedelta(days=-60), lasts=timedelta(days=1))  # too old
    buyers = UserFactory.create_batch(4)
    numbers = [client_for(b).post(buy_url(sale)).json()["out_trade_no"] for b in buyers]
    _pay(numbers[0])
    _pay(numbers[1])
    Order.objects.filter(out_trade_no=numbers[2]).update(
        expires_at=timezone.now() - timedelta(minutes=10)
    )
    order_services.expire_orders()

    results = flash_sale_results()

    assert [r.sale_id for r in results] == [sale.pk, ended.pk]
    running, over = results
    assert (running.seats, running.sold, running.paid, running.unpaid, running.released) == (
        10,
        3,
        2,
        1,
        1,
    )
    assert running.running and not over.running
    assert (over.sold, over.paid, over.released) == (0, 0, 0)


def test_flash_sale_results_are_one_query(django_assert_num_queries):
    for _sale in range(12):
        make_sale()
    with django_assert_num_queries(1):
        assert len(flash_sale_results()) == 10


def _staff_with(*codenames: str) -> Client:
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(staff)
    return client


def test_the_index_shows_each_part_to_staff_who_may_view_it(coupon_history):
    make_sale()
    both = _staff_with("view_coupon", "view_flashsale").get("/admin/")
    coupons_only = _staff_with("view_coupon").get("/admin/")
    neither = _staff_with("view_order").get("/admin/")

    assert 'id="coupon-usage"' in both.text and 'id="flash-sale-results"' in both.text
    assert "¥23.49" in both.text and "满减大券" in both.text
    assert 'id="coupon-usage"' in coupons_only.text
    assert 'id="flash-sale-results"' not in coupons_only.text
    assert 'id="promotion-dashboard"' not in neither.text
    assert 'id="sales-dashboard"' in neither.text


def test_the_index_with_both_blocks_reads_a_fixed_number_of_queries(
    admin_client, coupon_history, django_assert_num_queries
):
    make_sale()
    admin_client.get("/admin/")
    with django_assert_num_queries(INDEX_QUERIES) as captured:
        admin_client.get("/admin/")
    CouponFactory.create_batch(3)
    make_sale()
    with django_assert_num_queries(len(captured.captured_queries)):
        page = admin_client.get("/admin/")
    assert 'id="promotion-dashboard"' in page.text


# The session, the user, the sales block's 7 queries, the learning block's 2, the promotions
# block's 3, the recent actions.
INDEX_QUERIES = 15
