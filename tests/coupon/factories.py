"""factory_boy factories for coupons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.coupon.models import Coupon


class CouponFactory(factory.django.DjangoModelFactory):
    """A claimable 立减 coupon of ¥10, valid for a week, claimable now."""

    class Meta:
        model = Coupon

    name = factory.Sequence(lambda n: f"优惠券{n}")
    kind = Coupon.Kind.AMOUNT
    amount = Decimal("10.00")
    validity = Coupon.Validity.FIXED
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    claim_starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    claim_ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    total_stock = 100
