"""Placing an order (at most one open order per set of courses and buyer), taking free courses
without one, cancelling, expiring."""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions

from apps.coupon import services as coupons
from apps.coupon.selectors import AppliedCoupon
from apps.course import pricing
from apps.course.pricing import PricedCourse
from apps.user.models import User
from libs import iPay
from utils.exceptions import Conflict, ServiceUnavailable
from utils.logging import get_logger

from ..models import Order, OrderDetail
from . import grants
from .locks import lock_buyer
from .settlement import refresh_from_alipay, settle_if_alipay_paid
from .transitions import Actor, change_status

logger = get_logger("order")

# An order is only timed out this long after Alipay stopped accepting payment for it, so a
# payment completed on the last second has time to be notified.
EXPIRY_GRACE = timedelta(minutes=2)
# An open order is handed out again only with this much of its pay window left: the buyer
# needs time to pay, and Alipay refuses a pay URL whose time_expire has passed.
REUSE_MIN_LEFT = timedelta(minutes=3)
SUBJECT_MAX = 150
# Each round closes the open orders found under the buyer's lock; a new one can only appear if
# the same buyer keeps placing overlapping orders at the same instant.
PLACE_ROUNDS = 3


class PayChannel(models.TextChoices):
    """Which Alipay cashier the pay URL opens: the desktop page, or the phone (wap) page."""

    PAGE = "page", gettext_lazy("电脑网站支付")
    WAP = "wap", gettext_lazy("手机网站支付")


@dataclass(frozen=True)
class PlacedOrder:
    order: Order | None  # None: free courses, given without an order (nothing was sold)
    pay_url: str | None  # None with no order
    created: bool = True  # False: the buyer's open order for the same courses, handed out again


def new_out_trade_no(now: datetime | None = None) -> str:
    """Time-ordered (sorts by creation) and unguessable: 20 digits of time + 16 hex digits."""
    now = timezone.localtime(now or timezone.now())
    return f"{now:%Y%m%d%H%M%S%f}{secrets.token_hex(8)}"


def _refuse_owned(courses: list[PricedCourse], owned: set[int]) -> None:
    if owned:
        names = _("、").join(c.name for c in courses if c.pk in owned)
        raise Conflict(_("您已拥有课程: %(courses)s") % {"courses": names})


def _unique(course_ids: list[int]) -> None:
    if len(set(course_ids)) != len(course_ids):
        raise exceptions.ValidationError({"courses": [_("课程不能重复")]})


def _buyable_courses(course_ids: list[int], found: dict[int, PricedCourse]) -> list[PricedCourse]:
    """The courses on sale (`found`: priced now, apps/course/pricing.py), in the order asked;
    whether the buyer owns one is asked under the lock."""
    missing = [pk for pk in course_ids if pk not in found]
    if missing:
        raise exceptions.ValidationError(
            {"courses": [_("课程不存在或已下架: %(ids)s") % {"ids": ", ".join(map(str, missing))}]}
        )
    return [found[pk] for pk in course_ids]


@dataclass(frozen=True)
class _Priced:
    """The order as the server prices it: its courses, the total to pay, the subject, and the
    buyer's coupon with each line's share of its discount; and the cashier it is paid at."""

    courses: list[PricedCourse]
    total: Decimal
    subject: str
    pay_minutes: int | None = None  # None: settings.ORDER_PAY_TIMEOUT_MINUTES
    coupon: AppliedCoupon | None = None
    channel: PayChannel = PayChannel.PAGE

    def paid_prices(self) -> list[Decimal]:
        """What each line costs after the coupon's share (the lines add up to `total`)."""
        if self.coupon is None:
            return [c.real_price for c in self.courses]
        shares = self.coupon.line_discounts
        return [c.real_price - d for c, d in zip(self.courses, shares, strict=True)]

    def coupon_ids(self) -> set[int]:
        return {self.coupon.user_coupon.pk} if self.coupon else set()


def _priced(
    course_ids: list[int],
    found: dict[int, PricedCourse],
    total_amount: Decimal,
    *,
    buyer: User,
    user_coupon_id: int | None,
) -> _Priced:
    """The courses on sale priced now (400 for a missing one), less the buyer's coupon on them
    (apps/coupon), the client's total checked to the cent against the server's (400 with the
    amount to pay), the subject: the course names, never the buyer's text (it reaches Alipay's
    page and the staff's exports)."""
    courses = _buyable_courses(course_ids, found)
    applied = coupons.coupon_for_order(buyer, user_coupon_id=user_coupon_id, courses=courses)
    server_total = sum((c.real_price for c in courses), Decimal("0.00"))
    if applied is not None:
        server_total -= applied.discount
    if total_amount != server_total:
        raise exceptions.ValidationError(
            {
                "total_amount": [
                    _("课程价格已变动,当前应付 %(amount)s 元,请刷新后重试")
                    % {"amount": iPay.format_amount(server_total)}
                ]
            }
        )
    subject = "、".join(c.name for c in courses)[:SUBJECT_MAX]
    return _Priced(courses=courses, total=server_total, subject=subject, coupon=applied)


def _pay_url(client: iPay.AlipayClient, order: Order, channel: PayChannel, course_id: int) -> str:
    """Where the buyer pays the order: Alipay's desktop page, or for `wap` its phone cashier,
    which a buyer who leaves returns from to the course's page with the order number (that
    page offers to pay or cancel). One signature, for the channel asked."""
    trade = {
        "out_trade_no": order.out_trade_no,
        "total_amount": order.total_amount,
        "subject": order.subject,
        "expires_at": order.expires_at,
    }
    if channel != PayChannel.WAP:
        return client.page_pay_url(**trade)
    query = urlencode({"unpaid": order.out_trade_no})
    quit_url = f"{settings.FRONTEND_URL}/course/{course_id}?{query}"
    return client.wap_pay_url(**trade, quit_url=quit_url)


def place_order(
    *,
    buyer: User,
    course_ids: list[int],
    total_amount: Decimal,
    pay_type: int = Order.PayType.ALIPAY,
    user_coupon_id: int | None = None,
    pay_channel: PayChannel = PayChannel.PAGE,
) -> PlacedOrder:
    """Price the courses, store the order unpaid and return where to pay it (`pay_channel`:
    Alipay's desktop or phone cashier).

    The client's total must equal the server's sum of current prices to the cent; otherwise the
    buyer saw another price than the one we would charge. A buyer has at most one open order
    containing a course: the same courses again return the open order (created=False); other
    open orders sharing a course are closed at Alipay and cancelled first (409 if one turns out
    paid), so one course cannot be paid twice through two orders.

    Courses that all cost nothing now make no order: the buyer simply takes them
    (`take_free_courses`). (A coupon never takes a whole price: apps/coupon/discounts.py.)
    """
    if pay_type != Order.PayType.ALIPAY:
        raise exceptions.ValidationError({"pay_type": [_("暂只支持支付宝支付")]})
    _unique(course_ids)
    now = timezone.now()
    found = pricing.priced_on_sale(course_ids, now=now)
    priced = _priced(course_ids, found, total_amount, buyer=buyer, user_coupon_id=user_coupon_id)
    if priced.total == 0:
        return take_free_courses(buyer, priced.courses)
    return _place(buyer, dataclasses.replace(priced, channel=PayChannel(pay_channel)))


def take_free_courses(buyer: User, courses: list[PricedCourse]) -> PlacedOrder:
    """Give the buyer courses that cost nothing now, without an order: nothing is sold, so
    nothing shows in 我的订单 and nothing can be refunded (409 for one owned already).

    Granted under the buyer's and the courses' row locks (grants.grant_courses), racing a
    payment or a staff grant of the same course as any grant does. Open orders the buyer
    placed for these courses while they cost money are cancelled afterwards, outside the
    transaction (closing asks Alipay); one paid meanwhile is settled and refunded as a payment
    for a course already owned (settlement).
    """
    ids = [c.pk for c in courses]
    with transaction.atomic():
        owned = grants.grant_courses(buyer.pk, ids, order=None)
        _refuse_owned(courses, set(owned))  # rolls back what was just granted
    logger.info("Free courses %s taken by user %s", ids, buyer.pk)
    stale = Order.objects.filter(
        user=buyer, order_status=Order.Status.UNPAID, lines__course_id__in=ids
    ).distinct()
    for order in stale:
        end_unpaid_order(order, to=Order.Status.CANCELLED, by=Actor.BUYER)
    return PlacedOrder(order=None, pay_url=None)


def pay_open_order(
    buyer: User, out_trade_no: str, *, pay_channel: PayChannel = PayChannel.PAGE
) -> PlacedOrder:
    """Where to pay one of the buyer's open orders again (去支付 in 我的订单, or back from a
    cashier left early): the same trade at its own amount, whatever coupon or flash-sale price
    made it. Nothing is written. 404 for an order that is not the buyer's, 409 for one no longer
    payable (paid, cancelled, or its pay window over), 503 without Alipay."""
    order = Order.objects.filter(user=buyer, out_trade_no=out_trade_no).first()
    if order is None:
        raise exceptions.NotFound(_("订单不存在"))
    if order.order_status != Order.Status.UNPAID:
        raise Conflict(_("订单%(status)s,无法支付") % {"status": order.get_order_status_display()})
    if order.expires_at <= timezone.now():
        raise Conflict(_("订单已超过支付时间,请重新下单"))
    client = _alipay_client()
    if client is None:
        raise ServiceUnavailable(_("支付宝支付未配置,暂时无法下单"))
    first_line = order.lines.order_by("id").first()
    pay_url = _pay_url(client, order, PayChannel(pay_channel), first_line.course_id)
    return PlacedOrder(order=order, pay_url=pay_url, created=False)


def place_sale_order(
    *,
    buyer: User,
    course_id: int,
    sale_price: Decimal,
    pay_minutes: int,
    pay_channel: PayChannel = PayChannel.PAGE,
) -> PlacedOrder:
    """Place an order for one course at a price a promotion decided on the server (a flash
    sale's seat), payable for `pay_minutes`; otherwise the rules of `place_order` (400 for a
    course not on sale, 409 for one owned, other open orders for it closed first)."""
    found = pricing.priced_on_sale([course_id], now=timezone.now())
    (course,) = _buyable_courses([course_id], found)
    sale = PricedCourse(pk=course.pk, name=course.name, price=course.price, real_price=sale_price)
    priced = _Priced(
        courses=[sale],
        total=sale_price,
        subject=sale.name[:SUBJECT_MAX],
        pay_minutes=pay_minutes,
        channel=PayChannel(pay_channel),
    )
    return _place(buyer, priced)


def _place(buyer: User, priced: _Priced) -> PlacedOrder:
    """Place `priced` for the buyer: rounds under the buyer's lock, closing the buyer's other
    open orders for these courses between them (outside any transaction)."""
    client = _alipay_client()
    for _round in range(PLACE_ROUNDS):
        placed, rivals = _place_under_buyer_lock(buyer, priced, client)
        if placed is not None:
            return placed
        for rival in rivals:  # outside any transaction: closing asks Alipay over the network
            _close_rival(rival)
    raise Conflict(_("您有正在处理的订单,请稍后重试"))


def _alipay_client() -> iPay.AlipayClient | None:
    """The client that signs the pay URL; None when Alipay is not configured (then the
    placement answers 503, after the 409 for a course owned)."""
    try:
        return iPay.get_client()
    except iPay.PaymentNotConfigured:
        return None


def _place_under_buyer_lock(
    buyer: User, priced: _Priced, client: iPay.AlipayClient | None
) -> tuple[PlacedOrder | None, list[Order]]:
    """(the placed or reused order, []) or (None, the open orders that must be closed first).

    Runs under the buyer's row lock, so two placements by one buyer take turns: the second sees
    the first's order and reuses it. Races with settlement (same lock) and nothing else. What
    the buyer owns and the open orders are read after the lock, so that a placement or a grant
    that held it has committed and is seen (READ COMMITTED). A 409 or 503 rolls the
    transaction back, nothing written.
    """
    ids = [c.pk for c in priced.courses]
    now = timezone.now()
    with transaction.atomic():
        lock_buyer(buyer.pk)
        # Whether the buyer owns a course is asked under the lock: a notify may have just
        # granted one. Owning a course is the answer that matters (409), even without Alipay.
        _refuse_owned(priced.courses, grants.owned_course_ids(buyer.pk, ids))
        if client is None:
            raise ServiceUnavailable(_("支付宝支付未配置,暂时无法下单"))
        open_orders = list(
            Order.objects.filter(
                user=buyer, order_status=Order.Status.UNPAID, lines__course_id__in=ids
            )
            .distinct()
            .order_by("-created_time", "-id")
            .prefetch_related("lines", "coupons")
        )
        reused = _reusable(open_orders, priced, now)
        if reused is not None:
            logger.info("Order %s handed out again to user %s", reused.out_trade_no, buyer.pk)
            pay_url = _pay_url(client, reused, priced.channel, priced.courses[0].pk)
            return PlacedOrder(order=reused, pay_url=pay_url, created=False), []
        if open_orders:
            return None, open_orders
        return _create_order(buyer, priced, client, now), []


def _reusable(open_orders: list[Order], priced: _Priced, now: datetime) -> Order | None:
    """The open order for exactly these courses at this total, with time left to pay it."""
    ids = {c.pk for c in priced.courses}
    for order in open_orders:
        same = {line.course_id for line in order.lines.all()} == ids
        same = same and {held.pk for held in order.coupons.all()} == priced.coupon_ids()
        if same and order.total_amount == priced.total and order.expires_at > now + REUSE_MIN_LEFT:
            return order
    return None


def _create_order(
    buyer: User, priced: _Priced, client: iPay.AlipayClient, now: datetime
) -> PlacedOrder:
    """Store the order, unpaid, and its lines; return it with its pay URL."""
    order = Order.objects.create(
        user=buyer,
        subject=priced.subject,
        total_amount=priced.total,
        out_trade_no=new_out_trade_no(now),
        pay_type=Order.PayType.ALIPAY,
        expires_at=now
        + timedelta(minutes=priced.pay_minutes or settings.ORDER_PAY_TIMEOUT_MINUTES),
    )
    OrderDetail.objects.bulk_create(
        OrderDetail(order=order, course_id=c.pk, price=c.price, real_price=paid)
        for c, paid in zip(priced.courses, priced.paid_prices(), strict=True)
    )
    if priced.coupon is not None:  # 409 (all rolled back) when another open order holds it
        applied = priced.coupon
        coupons.hold_coupon(applied.user_coupon.pk, order_id=order.pk, discount=applied.discount)
    logger.info("Order %s placed: %s yuan, user %s", order.out_trade_no, priced.total, buyer.pk)
    pay_url = _pay_url(client, order, priced.channel, priced.courses[0].pk)
    return PlacedOrder(order=order, pay_url=pay_url)


def _close_rival(order: Order) -> None:
    """Close an open order that shares courses with a new one; 409 if it was paid meanwhile."""
    ended = end_unpaid_order(order, to=Order.Status.CANCELLED, by=Actor.BUYER, strict=True)
    if ended.is_paid:
        raise Conflict(
            _("订单 %(order)s 已支付,课程已开通,请勿重复购买") % {"order": order.out_trade_no}
        )
    logger.info("Order %s cancelled: its buyer placed another for its courses", order.out_trade_no)


def _close_at_alipay(out_trade_no: str, *, strict: bool = False) -> iPay.CloseResult | None:
    """Close the Alipay trade; None when Alipay is not configured or cannot be reached
    (with `strict`, unreachable raises ServiceUnavailable instead)."""
    if not iPay.is_configured():
        return None
    try:
        return iPay.get_client().close_trade(out_trade_no)
    except iPay.AlipayUnavailable as exc:
        logger.warning("Closing Alipay trade %s failed: %s", out_trade_no, exc)
        if strict:
            raise ServiceUnavailable(_("支付宝暂时无法访问,请稍后重试")) from None
        return None


def end_unpaid_order(order: Order, *, to: Order.Status, by: Actor, strict: bool = False) -> Order:
    """Close the trade at Alipay, then move the order (if still unpaid) to `to` under its row
    lock, unless Alipay says it was paid. Returns the order as it stands afterwards.

    `strict`: when Alipay cannot tell us (unreachable), refuse (503) rather than end the order
    on our side only; a new order for the same courses must not leave an old trade payable.
    """
    if _close_at_alipay(order.out_trade_no, strict=strict) == iPay.CloseResult.ALREADY_PAID:
        if strict:
            try:
                order = settle_if_alipay_paid(order)
            except iPay.AlipayUnavailable:
                raise ServiceUnavailable(_("支付宝暂时无法访问,请稍后重试")) from None
        else:
            order = refresh_from_alipay(order)  # the buyer paid in the meantime
        if order.is_paid:
            return order
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.order_status == Order.Status.UNPAID:
            change_status(locked, to, by=by)
    return locked


def cancel_order(user: User, out_trade_no: str) -> Order:
    order = Order.objects.filter(user=user, out_trade_no=out_trade_no).first()
    if order is None:
        raise exceptions.NotFound(_("订单不存在"))
    if order.order_status == Order.Status.CANCELLED:
        return order
    if order.order_status != Order.Status.UNPAID:
        raise Conflict(_("订单%(status)s,无法取消") % {"status": order.get_order_status_display()})
    order = end_unpaid_order(order, to=Order.Status.CANCELLED, by=Actor.BUYER)
    if order.order_status != Order.Status.CANCELLED:
        raise Conflict(_("订单%(status)s,无法取消") % {"status": order.get_order_status_display()})
    logger.info("Order %s cancelled by its buyer", out_trade_no)
    return order


def expire_orders(now: datetime | None = None, limit: int = 500) -> list[str]:
    """Time out unpaid orders whose payment window (plus grace) has passed."""
    cutoff = (now or timezone.now()) - EXPIRY_GRACE
    due = Order.objects.filter(order_status=Order.Status.UNPAID, expires_at__lt=cutoff)
    expired = []
    for order in due.order_by("expires_at")[:limit]:
        ended = end_unpaid_order(order, to=Order.Status.TIMED_OUT, by=Actor.EXPIRY)
        if ended.order_status == Order.Status.TIMED_OUT:
            expired.append(order.out_trade_no)
            logger.info("Order %s timed out", order.out_trade_no)
    return expired
