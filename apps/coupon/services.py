"""Coupon rules that write: claiming, redeeming a code, batches of single-use codes, staff
issuing, and the life of a coupon an order uses (held by the unpaid order, released by its
expiry or cancel, used by its payment).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from apps.course.pricing import PricedCourse
from apps.order.models import Order
from apps.user.models import User
from utils.exceptions import Conflict
from utils.logging import get_logger

from . import selectors
from .models import CodeBatch, Coupon, CouponCode, UserCoupon

logger = get_logger("coupon")


def _check_claim_window(coupon: Coupon, now: datetime) -> None:
    if now < coupon.claim_starts_at:
        raise exceptions.ValidationError({"coupon": [_("优惠券尚未开始领取")]})
    if now >= coupon.claim_ends_at:
        raise exceptions.ValidationError({"coupon": [_("优惠券已结束领取")]})


def _issue_locked(coupon: Coupon, user: User, now: datetime) -> UserCoupon:
    """Give `user` one `coupon`, whose row the caller holds locked (select_for_update): the
    per-user count and the stock are read and taken under that lock, so every claim of this
    coupon takes its turn. The stock update is conditional as well (issued < total_stock), so
    even without the lock (SQLite ignores FOR UPDATE) the stock is never oversold."""
    held = UserCoupon.objects.filter(coupon=coupon, user=user).count()
    if held >= coupon.per_user_limit:
        raise Conflict(_("您已领取过该优惠券"))
    taken = Coupon.objects.filter(pk=coupon.pk, issued__lt=F("total_stock")).update(
        issued=F("issued") + 1
    )
    if not taken:
        raise Conflict(_("优惠券已被领完"))
    valid_from, valid_until = coupon.validity_window(now)
    return UserCoupon.objects.create(
        coupon=coupon, user=user, valid_from=valid_from, valid_until=valid_until
    )


def claim_coupon(user: User, *, coupon_id: int, now: datetime | None = None) -> UserCoupon:
    """Claim a claimable coupon: 404 unknown (or not claimable), 400 outside its claim window,
    409 per-user limit reached or stock gone. Races with every other claim of the coupon (the
    coupon's row lock)."""
    now = now or timezone.now()
    with transaction.atomic():
        coupon = (
            Coupon.objects.select_for_update()
            .filter(pk=coupon_id, obtain=Coupon.Obtain.CLAIM, is_active=True)
            .first()
        )
        if coupon is None:
            raise exceptions.NotFound(_("优惠券不存在"))
        _check_claim_window(coupon, now)
        claimed = _issue_locked(coupon, user, now)
    logger.info("User %s claimed coupon %s", user.pk, coupon_id)
    return claimed


def redeem_code(user: User, *, code: str, now: datetime | None = None) -> UserCoupon:
    """Redeem a coupon code, a batch's single-use one or a coupon's shared one: 400 for a code
    that is unknown or outside its window (one answer for both, so codes cannot be probed by
    status), 409 a single-use code already redeemed, limit reached or stock gone."""
    now = now or timezone.now()
    code = code.strip().upper()
    with transaction.atomic():
        single = CouponCode.objects.select_related("batch").filter(code=code).first()
        if single is not None:
            redeemed = _redeem_single_use(user, single, now)
        else:
            coupon = _locked_code_coupon(Q(code=code, obtain=Coupon.Obtain.CODE), now)
            redeemed = _issue_locked(coupon, user, now)
    logger.info("User %s redeemed coupon %s by code", user.pk, redeemed.coupon_id)
    return redeemed


def _locked_code_coupon(which: Q, now: datetime) -> Coupon:
    coupon = Coupon.objects.select_for_update().filter(which, is_active=True).first()
    if coupon is None or not coupon.claim_starts_at <= now < coupon.claim_ends_at:
        raise exceptions.ValidationError({"code": [_("兑换码无效或已过期")]})
    return coupon


def _redeem_single_use(user: User, single: CouponCode, now: datetime) -> UserCoupon:
    """Under the coupon's row lock (the stock) the code is marked redeemed by a conditional
    update, so of two shoppers typing it at once exactly one gets the coupon."""
    coupon = _locked_code_coupon(Q(pk=single.batch.coupon_id, obtain=Coupon.Obtain.BATCH), now)
    taken = CouponCode.objects.filter(pk=single.pk, redeemed_at=None).update(redeemed_at=now)
    if not taken:
        raise Conflict(_("兑换码已被使用"))
    held = _issue_locked(coupon, user, now)  # 409 rolls the code back to unredeemed
    CouponCode.objects.filter(pk=single.pk).update(user_coupon=held)
    return held


# --- Code batches -----------------------------------------------------------------------------

# 32 letters and digits without 0/O and 1/I (read aloud or typed from paper); 16 of them are
# 80 random bits, so guessing one code in the redeem throttle's 10 a minute is hopeless.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
MAX_BATCH_SIZE = 10_000


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))


def _unique_codes(size: int) -> list[str]:
    """`size` fresh codes, none already a batch code or a coupon's shared code."""
    codes: set[str] = set()
    while len(codes) < size:
        drawn = {new_code() for _missing in range(size - len(codes))} - codes
        drawn -= set(CouponCode.objects.filter(code__in=drawn).values_list("code", flat=True))
        drawn -= set(Coupon.objects.filter(code__in=drawn).values_list("code", flat=True))
        codes |= drawn
    return sorted(codes)


def create_code_batch(
    coupon_id: int, *, size: int, note: str = "", staff: User | None = None
) -> CodeBatch:
    """Make `size` single-use codes for a BATCH coupon. Each code reserves one of the coupon's
    stock: 400 when the stock left, less the codes not yet redeemed, is smaller than `size`
    (so every code handed out can be redeemed). Races with claims and other batches of the
    coupon (its row lock)."""
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise exceptions.ValidationError(
            {"size": [_("数量须在 1 到 %(max)s 之间") % {"max": MAX_BATCH_SIZE}]}
        )
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().filter(pk=coupon_id).first()
        if coupon is None:
            raise exceptions.NotFound(_("优惠券不存在"))
        if coupon.obtain != Coupon.Obtain.BATCH:
            raise exceptions.ValidationError({"coupon": [_("只有一次性兑换码券可以生成兑换码")]})
        open_codes = CouponCode.objects.filter(batch__coupon=coupon, redeemed_at=None).count()
        room = coupon.stock_left - open_codes
        if size > room:
            raise exceptions.ValidationError(
                {"size": [_("库存不足:最多还能生成 %(room)s 个兑换码") % {"room": max(room, 0)}]}
            )
        batch = CodeBatch.objects.create(coupon=coupon, size=size, note=note, created_by=staff)
        CouponCode.objects.bulk_create(
            [CouponCode(batch=batch, code=code) for code in _unique_codes(size)], batch_size=1000
        )
    logger.info("Coupon %s: batch %s of %s codes made", coupon_id, batch.pk, size)
    return batch


@dataclass(frozen=True)
class IssueResult:
    issued: list[int]  # user ids that got the coupon
    skipped: list[int]  # user ids at their limit, or left out when the stock ran out


def issue_coupon(
    coupon_id: int, *, users: Iterable[User], now: datetime | None = None
) -> IssueResult:
    """Staff give a coupon to chosen users, as far as the stock and each user's limit allow."""
    now = now or timezone.now()
    result = IssueResult(issued=[], skipped=[])
    with transaction.atomic():
        coupon = Coupon.objects.select_for_update().get(pk=coupon_id)
        for user in users:
            try:
                with transaction.atomic():
                    _issue_locked(coupon, user, now)
            except Conflict:
                result.skipped.append(user.pk)
            else:
                result.issued.append(user.pk)
    return result


# --- The coupon of an order -------------------------------------------------------------------


def coupon_for_order(
    buyer: User, *, user_coupon_id: int | None, courses: Sequence[PricedCourse]
) -> selectors.AppliedCoupon | None:
    """The placement's question: this coupon on these courses priced now (None without one).
    404 not the buyer's, 400 used, expired or inapplicable; one an unpaid order holds passes
    here and is taken, or refused (409), by hold_coupon under the buyer's lock."""
    if user_coupon_id is None:
        return None
    lines = selectors.lines_of(courses)
    return selectors.apply_coupon(buyer, user_coupon_id=user_coupon_id, lines=lines, held_ok=True)


def hold_coupon(user_coupon_id: int, *, order_id: int, discount: Decimal) -> None:
    """The unpaid order takes the coupon: a conditional update from USABLE, so of concurrent
    placements using one coupon exactly one gets it; the others get 409 (their transaction
    rolls back, no order). Call it inside the placement's transaction, after the buyer's lock
    (an order of the buyer holding it was handed out again or closed by then)."""
    taken = UserCoupon.objects.filter(pk=user_coupon_id, status=UserCoupon.Status.USABLE).update(
        status=UserCoupon.Status.HELD, order_id=order_id, discount=discount
    )
    if not taken:
        raise Conflict(_("优惠券已被其他订单使用"))


def release_coupon(order_id: int) -> int:
    """The order expired or was cancelled: its held coupon is usable again (until its own
    validity ends). Call it with the order's row locked; returns how many were released."""
    return UserCoupon.objects.filter(order_id=order_id, status=UserCoupon.Status.HELD).update(
        status=UserCoupon.Status.USABLE, order_id=None, discount=None
    )


def consume_coupon(order_id: int, *, now: datetime | None = None) -> int:
    """The order was paid: its held coupon is used. A refund later does not give it back.
    Call it with the order's row locked; returns how many were used."""
    return UserCoupon.objects.filter(order_id=order_id, status=UserCoupon.Status.HELD).update(
        status=UserCoupon.Status.USED, used_at=now or timezone.now()
    )


# What an order entering a status does to the coupon it holds: its payment uses it, cancelling
# or timing out gives it back (a refund keeps it used).
_ON_ORDER_STATUS = {
    Order.Status.PAID: consume_coupon,
    Order.Status.CANCELLED: release_coupon,
    Order.Status.TIMED_OUT: release_coupon,
}


def follow_order_status(sender: type, *, order: Order, **kwargs: object) -> None:
    """Receiver of the order app's `status_changed`, in the transaction that changed the status
    (the order's row lock held)."""
    action = _ON_ORDER_STATUS.get(order.order_status)
    if action is not None:
        action(order.pk)
