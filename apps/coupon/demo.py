"""The demo's claimable coupon (manage.py load_demo): ¥20 off from ¥99 on the paid courses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from apps.course.models import Course

from .models import Coupon

DEMO_STOCK = 1000
DEMO_CLAIM_WINDOW = timedelta(days=30)


def ensure_demo_coupon(name: str, paid_courses: Iterable[Course], *, now: datetime) -> Coupon:
    """The demo coupon `name` (the first of that name), claimable for 30 more days and scoped to
    `paid_courses`. A rerun keeps the coupon (its id and what shoppers claimed) and only
    reopens its claim window."""
    coupon = Coupon.objects.filter(name=name).order_by("id").first()
    if coupon is None:
        coupon = Coupon.objects.create(
            name=name,
            kind=Coupon.Kind.THRESHOLD,
            amount=Decimal("20.00"),
            min_spend=Decimal("99.00"),
            scope=Coupon.Scope.COURSES,
            validity=Coupon.Validity.AFTER_CLAIM,
            valid_days=7,
            obtain=Coupon.Obtain.CLAIM,
            claim_starts_at=now - timedelta(hours=1),
            claim_ends_at=now + DEMO_CLAIM_WINDOW,
            total_stock=DEMO_STOCK,
        )
    else:
        coupon.is_active = True
        coupon.claim_starts_at = min(coupon.claim_starts_at, now - timedelta(hours=1))
        coupon.claim_ends_at = max(coupon.claim_ends_at, now + DEMO_CLAIM_WINDOW)
        coupon.save(update_fields=["is_active", "claim_starts_at", "claim_ends_at"])
    coupon.courses.set(paid_courses)
    return coupon
