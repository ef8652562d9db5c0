"""Coupon reads: what can be claimed now, a shopper's coupons, which apply to a set of lines,
and the checkout preview (lines, coupons that apply, the amount to pay)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from apps.course import pricing
from apps.course.models import Course
from apps.course.pricing import PricedCourse
from apps.user.models import User

from .discounts import ZERO, Line, Scope, discount_for, split_discount
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


def lines_of(courses: Sequence[PricedCourse]) -> list[Line]:
    """The courses priced now as a coupon sees them (their categories read in one query)."""
    categories = dict(
        Course.objects.filter(pk__in=[c.pk for c in courses]).values_list(
            "pk", "course_category_id"
        )
    )
    return [Line(c.pk, categories.get(c.pk), c.real_price) for c in courses]


@dataclass(frozen=True)
class AppliedCoupon:
    """The buyer's coupon checked against an order's lines: the discount and each line's share."""

    user_coupon: UserCoupon
    discount: Decimal
    line_discounts: list[Decimal]  # in the order of the lines given


def apply_coupon(
    buyer: User,
    *,
    user_coupon_id: int,
    lines: list[Line],
    now: datetime | None = None,
    held_ok: bool = False,
) -> AppliedCoupon:
    """Check that the buyer may use this coupon on these lines and price it (no write).

    404 for a coupon that is not the buyer's (someone else's looks like none); 400 used, held by
    another order, expired, not yet valid, or not applicable to these courses. `held_ok`: a
    coupon an unpaid order holds passes (the placement decides under the buyer's lock whether
    that order is handed out again, replaced, or the coupon is taken: 409)."""
    now = now or timezone.now()
    held = UserCoupon.objects.select_related("coupon").filter(pk=user_coupon_id, user=buyer).first()
    if held is None:
        raise exceptions.NotFound(_("优惠券不存在"))
    _refuse_unusable(held, now, held_ok=held_ok)
    scope = scope_of(held.coupon)
    discount = discount_for(held.coupon, scope, lines)
    if discount <= 0:
        raise exceptions.ValidationError({"coupon": [_("该优惠券不适用于所选课程")]})
    return AppliedCoupon(held, discount, split_discount(discount, scope, lines))


def _refuse_unusable(held: UserCoupon, now: datetime, *, held_ok: bool) -> None:
    if held.status == UserCoupon.Status.USED:
        raise exceptions.ValidationError({"coupon": [_("优惠券已使用")]})
    if held.status == UserCoupon.Status.HELD and not held_ok:
        raise exceptions.ValidationError({"coupon": [_("优惠券已被其他待支付订单占用")]})
    if now >= held.valid_until:
        raise exceptions.ValidationError({"coupon": [_("优惠券已过期")]})
    if now < held.valid_from:
        raise exceptions.ValidationError({"coupon": [_("优惠券尚未生效")]})


@dataclass(frozen=True)
class PreviewLine:
    course: int
    course_name: str
    price: Decimal
    real_price: Decimal
    discount: Decimal
    pay_amount: Decimal


@dataclass(frozen=True)
class Preview:
    """What the buyer would pay: the lines, the coupons that apply, the one applied, the total."""

    lines: list[PreviewLine]
    subtotal: Decimal
    coupons: list[CouponOffer]
    coupon: int | None
    discount: Decimal
    total_amount: Decimal


def _on_sale(course_ids: list[int], now: datetime) -> list[PricedCourse]:
    """The courses priced now, in the order asked; 400 naming those missing (as order/pay/)."""
    found = pricing.priced_on_sale(course_ids, now=now)
    missing = [pk for pk in course_ids if pk not in found]
    if missing:
        raise exceptions.ValidationError(
            {"courses": [_("课程不存在或已下架: %(ids)s") % {"ids": ", ".join(map(str, missing))}]}
        )
    return [found[pk] for pk in course_ids]


def preview_order(
    buyer: User, *, course_ids: list[int], user_coupon_id: int | None = None
) -> Preview:
    """The checkout step before order/pay/: the courses at their current prices, the buyer's
    coupons that apply (the best marked), and with `user_coupon_id` that coupon applied (404
    someone else's, 400 used, expired or not applicable: apply_coupon)."""
    now = timezone.now()
    courses = _on_sale(course_ids, now)
    lines = lines_of(courses)
    applied = None
    if user_coupon_id is not None:
        applied = apply_coupon(buyer, user_coupon_id=user_coupon_id, lines=lines, now=now)
    shares = applied.line_discounts if applied else [ZERO] * len(lines)
    subtotal = sum((c.real_price for c in courses), ZERO)
    discount = applied.discount if applied else ZERO
    return Preview(
        lines=[
            PreviewLine(c.pk, c.name, c.price, c.real_price, share, c.real_price - share)
            for c, share in zip(courses, shares, strict=True)
        ],
        subtotal=subtotal,
        coupons=offers_for(buyer.pk, lines, now=now),
        coupon=user_coupon_id,
        discount=discount,
        total_amount=subtotal - discount,
    )


# --- Staff figures (the coupon admin and the dashboard) ---------------------------------------

_USED = Q(holdings__status=UserCoupon.Status.USED)


def with_usage(coupons: QuerySet) -> QuerySet:
    """Each coupon with `used` (holdings a paid order used) and `discount_given` (what those
    took off, Decimal; None when none): claimed is the coupon's own `issued`."""
    return coupons.annotate(
        used=Count("holdings", filter=_USED),
        discount_given=Sum("holdings__discount", filter=_USED),
    )


@dataclass(frozen=True)
class CouponUsage:
    coupon_id: int
    name: str
    claimed: int
    used: int
    discount_given: Decimal


@dataclass(frozen=True)
class CouponUsageSummary:
    coupons: list[CouponUsage]  # active coupons, most discount given first
    claimed: int  # every coupon together
    used: int
    discount_given: Decimal


def _fen(value: Decimal | None) -> Decimal:
    """Two places whatever the backend returns (SQLite's SUM can drop trailing zeros)."""
    return (value or ZERO).quantize(ZERO)


def coupon_usage(*, limit: int = 10) -> CouponUsageSummary:
    """The dashboard's coupon figures: the `limit` active coupons that gave the most, and the
    totals of all coupons. Two queries."""
    top = with_usage(Coupon.objects.filter(is_active=True)).order_by(
        F("discount_given").desc(nulls_last=True), "-id"
    )[:limit]
    totals = UserCoupon.objects.aggregate(
        claimed=Count("id"),
        used=Count("id", filter=Q(status=UserCoupon.Status.USED)),
        discount=Sum("discount", filter=Q(status=UserCoupon.Status.USED)),
    )
    return CouponUsageSummary(
        coupons=[CouponUsage(c.pk, c.name, c.issued, c.used, _fen(c.discount_given)) for c in top],
        claimed=totals["claimed"],
        used=totals["used"],
        discount_given=_fen(totals["discount"]),
    )
