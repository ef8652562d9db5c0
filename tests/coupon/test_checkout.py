"""Buying with a coupon: the discounted total, the split on the lines, and the coupon held by
the unpaid order, released by its cancel or expiry, used by its payment, kept by a refund."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.coupon import services as coupons
from apps.coupon.models import Coupon, UserCoupon
from apps.order import services
from apps.order.models import Order
from tests.factories import CourseFactory, UserFactory

from .factories import CouponFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def courses():
    return [CourseFactory(price=Decimal("199.00")), CourseFactory(price=Decimal("100.00"))]


@pytest.fixture
def held(user):
    coupon = CouponFactory(
        kind=Coupon.Kind.THRESHOLD, amount=Decimal("30.00"), min_spend=Decimal("299.00")
    )
    return coupons.claim_coupon(user, coupon_id=coupon.pk)


def status_of(held: UserCoupon) -> tuple[str, int | None]:
    held.refresh_from_db()
    return held.status, held.order_id


def test_the_total_must_be_the_discounted_amount(alipay, place, courses, held):
    full, _ = place(courses, "299.00", coupon=held.pk)
    answer, order = place(courses, "269.00", coupon=held.pk)

    assert full.status_code == 400
    assert "269.00" in full.json()["msg"]
    assert answer.status_code == 201
    assert order.total_amount == Decimal("269.00")
    assert [line.real_price for line in order.lines.order_by("course_id")] == [
        Decimal("179.03"),
        Decimal("89.97"),
    ]
    assert sum(line.real_price for line in order.lines.all()) == order.total_amount
    assert status_of(held) == (UserCoupon.Status.HELD, order.pk)
    assert held.discount == Decimal("30.00")


def test_the_same_courses_and_coupon_again_hand_out_the_open_order(alipay, place, courses, held):
    _, first = place(courses, "269.00", coupon=held.pk)
    again, second = place(courses, "269.00", coupon=held.pk)
    assert again.status_code == 200
    assert second == first


def test_a_coupon_an_open_order_holds_cannot_pay_for_other_courses(alipay, place, user, held):
    big = CourseFactory(price=Decimal("299.00"))
    other = CourseFactory(price=Decimal("399.00"))
    _, first = place([big], "269.00", coupon=held.pk)

    refused, order = place([other], "369.00", coupon=held.pk)

    assert refused.status_code == 409
    assert order is None
    assert Order.objects.filter(user=user).count() == 1
    assert status_of(held) == (UserCoupon.Status.HELD, first.pk)


def test_someone_elses_coupon_is_a_404_and_places_nothing(alipay, place, courses):
    someone_elses = coupons.claim_coupon(UserFactory(), coupon_id=CouponFactory().pk)
    answer, _ = place(courses, "289.00", coupon=someone_elses.pk)
    assert answer.status_code == 404
    assert Order.objects.count() == 0


def test_an_expired_coupon_is_a_clear_400(alipay, place, courses, held):
    UserCoupon.objects.filter(pk=held.pk).update(valid_until=timezone.now())
    answer, _ = place(courses, "269.00", coupon=held.pk)
    assert answer.status_code == 400
    assert answer.json()["msg"].endswith("优惠券已过期")


def test_cancelling_the_order_gives_the_coupon_back(alipay, place, user, courses, held):
    _, order = place(courses, "269.00", coupon=held.pk)
    services.cancel_order(user, order.out_trade_no)
    assert status_of(held) == (UserCoupon.Status.USABLE, None)
    assert held.discount is None
    again, second = place(courses, "269.00", coupon=held.pk)
    assert again.status_code == 201
    assert status_of(held) == (UserCoupon.Status.HELD, second.pk)


def test_an_order_that_times_out_gives_the_coupon_back(alipay, place, courses, held):
    _, order = place(courses, "269.00", coupon=held.pk)
    later = order.expires_at + services.EXPIRY_GRACE + timedelta(seconds=1)
    assert services.expire_orders(now=later) == [order.out_trade_no]
    assert status_of(held) == (UserCoupon.Status.USABLE, None)


def test_paying_uses_the_coupon_and_a_refund_does_not_give_it_back(
    alipay, place, send_notify, courses, held
):
    _, order = place(courses, "269.00", coupon=held.pk)
    assert send_notify(order, trade_no="2026120722001400000000000027").content == b"success"
    assert status_of(held) == (UserCoupon.Status.USED, order.pk)
    assert held.discount == Decimal("30.00")

    line = order.lines.get(course=courses[1])
    refund = services.refund_order(order, lines=[line], reason="test", staff=None)

    assert refund.amount == Decimal("89.97")  # what was paid for that line
    assert status_of(held) == (UserCoupon.Status.USED, order.pk)
