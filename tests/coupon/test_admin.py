"""Staff define coupons in the admin and see how many were claimed and used."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.coupon import services
from apps.coupon.models import Coupon, UserCoupon
from tests.factories import UserFactory

from .factories import CouponFactory

pytestmark = pytest.mark.django_db


def test_the_coupon_list_shows_claimed_used_and_the_discount_given(admin_client):
    coupon = CouponFactory(name="新人立减")
    first, second = UserFactory.create_batch(2)
    services.claim_coupon(first, coupon_id=coupon.pk)
    services.claim_coupon(second, coupon_id=coupon.pk)
    UserCoupon.objects.filter(user=first).update(
        status=UserCoupon.Status.USED, discount=Decimal("9.99")
    )
    UserCoupon.objects.filter(user=second).update(
        status=UserCoupon.Status.HELD, discount=Decimal("10.00")
    )

    page = admin_client.get("/admin/coupon/coupon/")

    assert page.status_code == 200
    listed = page.context["cl"].result_list.get()
    assert (listed.issued, listed.used, listed.discount_given) == (2, 1, Decimal("9.99"))
    assert "新人立减" in page.content.decode()
    assert admin_client.get(f"/admin/coupon/coupon/{coupon.pk}/change/").status_code == 200
    assert admin_client.get("/admin/coupon/usercoupon/").status_code == 200


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": Coupon.Kind.AMOUNT, "amount": None}, "amount"),
        ({"kind": Coupon.Kind.PERCENT, "percent_off": None}, "percent_off"),
        ({"validity": Coupon.Validity.AFTER_CLAIM, "valid_days": None}, "valid_days"),
        ({"obtain": Coupon.Obtain.CODE, "code": None}, "code"),
    ],
)
def test_a_coupon_missing_what_its_kind_needs_is_refused(fields, field):
    coupon = CouponFactory.build(**fields)
    with pytest.raises(ValidationError) as caught:
        coupon.full_clean()
    assert field in caught.value.message_dict


def test_a_code_is_stored_in_capitals():
    coupon = CouponFactory.build(obtain=Coupon.Obtain.CODE, code=" vip8 ")
    coupon.full_clean()
    assert coupon.code == "VIP8"


def test_the_coupon_list_reads_the_same_queries_for_3_or_13_coupons(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/coupon/coupon/").status_code == 200
        return len(captured.captured_queries)

    for coupon in CouponFactory.create_batch(3):
        services.claim_coupon(UserFactory(), coupon_id=coupon.pk)
    few = queries()
    for coupon in CouponFactory.create_batch(10):
        services.claim_coupon(UserFactory(), coupon_id=coupon.pk)
    assert queries() == few


def test_the_coupon_page_shows_its_usage(admin_client):
    coupon = CouponFactory()
    held = services.claim_coupon(UserFactory(), coupon_id=coupon.pk)
    UserCoupon.objects.filter(pk=held.pk).update(
        status=UserCoupon.Status.USED, discount=Decimal("7.50")
    )

    page = admin_client.get(f"/admin/coupon/coupon/{coupon.pk}/change/")

    text = page.content.decode()
    assert "已优惠金额" in text and "7.50" in text
    assert admin_client.get("/admin/coupon/coupon/add/").status_code == 200
