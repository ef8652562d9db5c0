"""Claiming and redeeming coupons: the claim window, the per-user limit and the stock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import exceptions

from apps.coupon import services
from apps.coupon.models import Coupon, UserCoupon
from tests.factories import UserFactory
from utils.exceptions import Conflict

from .factories import CouponFactory

pytestmark = pytest.mark.django_db


def test_claim_gives_the_shopper_a_usable_coupon_and_takes_one_from_the_stock():
    coupon = CouponFactory(total_stock=2)
    user = UserFactory()

    held = services.claim_coupon(user, coupon_id=coupon.pk)

    assert held.status == UserCoupon.Status.USABLE
    assert (held.valid_from, held.valid_until) == (coupon.valid_from, coupon.valid_until)
    coupon.refresh_from_db()
    assert coupon.issued == 1


def test_a_coupon_valid_n_days_after_claim_runs_from_the_claim():
    coupon = CouponFactory(validity=Coupon.Validity.AFTER_CLAIM, valid_days=3)
    now = timezone.now()
    held = services.claim_coupon(UserFactory(), coupon_id=coupon.pk, now=now)
    assert (held.valid_from, held.valid_until) == (now, now + timedelta(days=3))


def test_the_per_user_limit_refuses_the_next_claim_and_keeps_the_stock():
    coupon = CouponFactory(per_user_limit=2)
    user = UserFactory()
    services.claim_coupon(user, coupon_id=coupon.pk)
    services.claim_coupon(user, coupon_id=coupon.pk)

    with pytest.raises(Conflict, match="已领取"):
        services.claim_coupon(user, coupon_id=coupon.pk)
    coupon.refresh_from_db()
    assert coupon.issued == 2


def test_no_claim_once_the_stock_is_gone():
    coupon = CouponFactory(total_stock=1)
    services.claim_coupon(UserFactory(), coupon_id=coupon.pk)
    with pytest.raises(Conflict, match="领完"):
        services.claim_coupon(UserFactory(), coupon_id=coupon.pk)
    assert UserCoupon.objects.count() == 1


def test_outside_the_claim_window_is_a_400_and_writes_nothing():
    now = timezone.now()
    later = CouponFactory(claim_starts_at=now + timedelta(hours=1))
    over = CouponFactory(claim_ends_at=now)
    for coupon in (later, over):
        with pytest.raises(exceptions.ValidationError):
            services.claim_coupon(UserFactory(), coupon_id=coupon.pk, now=now)
    assert UserCoupon.objects.count() == 0


@pytest.mark.parametrize(
    "fields", [{"obtain": Coupon.Obtain.CODE, "code": "X1"}, {"is_active": False}]
)
def test_coupons_that_are_not_claimable_look_like_none(fields):
    coupon = CouponFactory(**fields)
    with pytest.raises(exceptions.NotFound):
        services.claim_coupon(UserFactory(), coupon_id=coupon.pk)


def test_redeem_a_code_whatever_its_case_and_spaces():
    coupon = CouponFactory(obtain=Coupon.Obtain.CODE, code="LUFFY2026")
    held = services.redeem_code(UserFactory(), code=" luffy2026 ")
    assert held.coupon == coupon


def test_an_unknown_or_closed_code_gets_one_and_the_same_400():
    CouponFactory(obtain=Coupon.Obtain.CODE, code="OLD", claim_ends_at=timezone.now())
    CouponFactory(obtain=Coupon.Obtain.CLAIM, code="CLAIMONLY")
    for code in ("NOPE", "OLD", "CLAIMONLY"):
        with pytest.raises(exceptions.ValidationError) as caught:
            services.redeem_code(UserFactory(), code=code)
        assert caught.value.detail == {"code": ["兑换码无效或已过期"]}


def test_staff_issue_to_chosen_users_as_far_as_stock_and_limits_allow():
    coupon = CouponFactory(obtain=Coupon.Obtain.STAFF, total_stock=2)
    first, second, third = UserFactory.create_batch(3)
    services.issue_coupon(coupon.pk, users=[first])

    result = services.issue_coupon(coupon.pk, users=[first, second, third])

    assert result.issued == [second.pk]
    assert result.skipped == [first.pk, third.pk]  # at the limit; stock gone
    coupon.refresh_from_db()
    assert coupon.issued == 2
