"""Coupon reads: what can be claimed now, a shopper's coupons, which apply to a set of lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.course.models import Course

from .discounts import Line, Scope, discount_for
from .models import Coupon, UserCoupon


def scope_of(coupon: Coupon) -> Scope:
    """The coupon's scope with its M2M ids read (uses prefetched rows when there are)."""
    return Scope(
        kind=coupon.scope,
        category_ids=frozenset(c.pk for c in coupon.categories.all()),
        course_ids=frozenset(c.pk for c in coupon.courses.all()),
    )


def _applies_to_course(course: Course) -> Q:
    return (
        Q(scope=Coupon.Scope.ALL)
        | Q(scope=Coupon.Scope.COURSES, courses=course)
        | Q(scope=Coupon.Scope.CATEGORIES, categories=course.course_category_id)
    )


def claimable_coupons(*, now: datetime | None = None, course: Course | None = None) -> QuerySet:
    """Coupons shoppers can claim now (active, in their claim window, stock left), those that
    apply to `course` only when given; soonest-ending first."""
    now = now or timezone.now()
    coupons = Coupon.objects.filter(
        obtain=Coupon.Obtain.CLAIM,
        is_active=True,
        claim_starts_at__lte=now,
        claim_ends_at__gt=now,
        issued__lt=F("total_stock"),
    )
    if course is not None:
        coupons = coupons.filter(_applies_to_course(course)).distinct()
    return coupons.prefetch_related("categories", "courses").order_by("claim_ends_at", "id")


class WalletStatus:
    USABLE = "usable"
    USED = "used"
    EXPIRED = "expired"
    CHOICES = (USABLE, USED, EXPIRED)


def user_coupons(user_id: int, *, status: str, now: datetime | None = None) -> QuerySet:
    """A shopper's coupons: usable (usable now or soon, and those an unpaid order holds), used,
    or expired (never used, validity over)."""
    now = now or timezone.now()
    mine = UserCoupon.objects.filter(user_id=user_id).select_related("coupon")
    if status == WalletStatus.USED:
        return mine.filter(status=UserCoupon.Status.USED).order_by("-used_at", "-id")
    unused = mine.exclude(status=UserCoupon.Status.USED)
    if status == WalletStatus.EXPIRED:
        return unused.filter(valid_until__lte=now).order_by("-valid_until", "-id")
    return unused.filter(valid_until__gt=now).order_by("valid_until", "id")


@dataclass(frozen=True)
class CouponOffer:
    """One of the buyer's coupons and what it takes off a set of lines."""

    user_coupon: UserCoupon
    discount: Decimal
    best: bool = False


def offers_for(
    user_id: int, lines: Sequence[Line], *, now: datetime | None = None
) -> list[CouponOffer]:
    """The buyer's usable coupons that apply to these lines, largest discount first, the first
    marked best (a tie goes to the one that expires sooner)."""
    now = now or timezone.now()
    usable = (
        UserCoupon.objects.filter(
            user_id=user_id,
            status=UserCoupon.Status.USABLE,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .select_related("coupon")
        .prefetch_related("coupon__categories", "coupon__courses")
        .order_by("valid_until", "id")
    )
    priced = [(held, discount_for(held.coupon, scope_of(held.coupon), lines)) for held in usable]
    applying = sorted((p for p in priced if p[1] > 0), key=lambda p: -p[1])
    return [CouponOffer(held, discount, best=i == 0) for i, (held, discount) in enumerate(applying)]
