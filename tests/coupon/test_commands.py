"""issue_coupon: staff give a coupon to shoppers by mobile."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.coupon.models import Coupon, UserCoupon
from tests.factories import UserFactory

from .factories import CouponFactory

pytestmark = pytest.mark.django_db


def test_issue_coupon_gives_it_to_the_mobiles_as_far_as_the_stock_goes():
    coupon = CouponFactory(obtain=Coupon.Obtain.STAFF, total_stock=1)
    first, second = UserFactory(mobile="13900000001"), UserFactory(mobile="13900000002")
    out = StringIO()

    call_command("issue_coupon", coupon.pk, first.mobile, second.mobile, "13900000009", stdout=out)

    assert list(UserCoupon.objects.values_list("user_id", flat=True)) == [first.pk]
    assert f"1 issued, 1 skipped (limit or stock: user ids [{second.pk}])" in out.getvalue()
    assert "unknown mobiles ['13900000009']" in out.getvalue()


def test_issue_coupon_refuses_an_unknown_coupon():
    with pytest.raises(CommandError):
        call_command("issue_coupon", 999999, "13900000001")
