"""Placing an order (at most one open order per set of courses and buyer), cancelling, expiring."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from apps.course.pricing import PricedCourse, priced_on_sale
from apps.user.models import User
from libs import iPay
from utils.exceptions import Conflict, ServiceUnavailable
from utils.logging import get_logger

from ..models import Order
from . import sql
from .locks import lock_buyer_and_read_owned, lock_for_grant
from .settlement import mark_paid_and_grant, refresh_from_alipay, settle_if_alipay_paid

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


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    pay_url: str | None  # None when nothing is left to pay (free courses)
    created: bool = True  # False: the buyer's open order for the same courses, handed out again


def new_out_trade_no(now: datetime | None = None) -> str:
    """Time-ordered (sorts by creation) and unguessable: 20 digits of time + 16 hex digits."""
    now = timezone.localtime(now or timezone.now())
    return f"{now:%Y%m%d%H%M%S%f}{secrets.token_hex(8)}"


def _refuse_owned(courses: list[PricedCourse], owned: set[int]) -> None:
    if owned:
        names = _("、").join(c.name for c in courses if c.pk in owned)
        raise Conflict(_("您已拥有课程: %(courses)s") % {"courses": names})


def _buyable_courses(course_ids: list[int]) -> list[PricedCourse]:
    """The courses on sale, priced now; whether the buyer owns one is asked under the lock."""
    if len(set(course_ids)) != len(course_ids):
        raise exceptions.ValidationError({"courses": [_("课程不能重复")]})
    # Only what an order stores, in one prepared statement (apps/course/pricing.py).
    found = priced_on_sale(course_ids)
    missing = [pk for pk in course_ids if pk not in found]
    if missing:
        raise exceptions.ValidationError(
            {"courses": [_("课程不存在或已下架: %(ids)s") % {"ids": ", ".join(map(str, missing))}]}
        )
    return [found[pk] for pk in course_ids]


def _pay_url(client: iPay.AlipayClient, order: Order) -> str:
    return client.page_pay_url(
        out_trade_no=order.out_trade_no,
        total_amount=order.total_amount,
        subject=order.subject,
        expires_at=order.expires_at,
    )


def place_order(
    *,
    buyer: User,
    course_ids: list[int],
    total_amount: Decimal,
    subject: str = "",
    pay_type: int = Order.PayType.ALIPAY,
) -> PlacedOrder:
    """Price the courses, store the order unpaid and return where to pay it.

    The client's total must equal the server's sum of current prices to the cent; otherwise the
    buyer saw another price than the one we would charge. A buyer has at most one open order
    containing a course: the same courses again return the open order (created=False); other
    open orders sharing a course are closed at Alipay and cancelled first (409 if one turns out
    paid), so one course cannot be paid twice through two orders.
    """
    if pay_type != Order.PayType.ALIPAY:
        raise exceptions.ValidationError({"pay_type": [_("暂只支持支付宝支付")]})
    courses = _buyable_courses(course_ids)
    server_total = sum((c.real_price for c in courses), Decimal("0.00"))
    if total_amount != server_total:
        raise exceptions.ValidationError(
            {
                "total_amount": [
                    _("课程价格已变动,当前应付 %(amount)s 元,请刷新后重试")
                    % {"amount": iPay.format_amount(server_total)}
                ]
            }
        )
    subject = (subject.strip() or "、".join(c.name for c in courses))[:SUBJECT_MAX]
    client = None
    if server_total > 0:
        try:
            client = iPay.get_client()
        except iPay.PaymentNotConfigured:
            owned = sql.owned_course_ids(buyer.pk, [c.pk for c in courses])
            _refuse_owned(courses, owned)  # owning a course is the answer that matters (409)
            raise ServiceUnavailable(_("支付宝支付未配置,暂时无法下单")) from None
    for _round in range(PLACE_ROUNDS):
        placed, rivals = _place_under_buyer_lock(buyer, courses, server_total, subject, client)
        if placed is not None:
            return placed
        for rival in rivals:  # outside any transaction: closing asks Alipay over the network
            _close_rival(rival)
    raise Conflict(_("您有正在处理的订单,请稍后重试"))


def _place_under_buyer_lock(
    buyer: User, courses: list[PricedCourse], total: Decimal, subject: str, client
) -> tuple[PlacedOrder | None, list[Order]]:
    """(the placed or reused order, None) or (None, the open orders that must be closed first).

    Runs under the buyer's row lock, so two placements by one buyer take turns: the second sees
    the first's order and reuses it. Races with settlement (same lock) and nothing else.
    """
    ids = [c.pk for c in courses]
    now = timezone.now()
    with transaction.atomic():
        # Whether the buyer owns a course is read under the lock: a notify may have just
        # granted one.
        if client is None:  # granted below, in this transaction: lock courses before inserting
            lock_for_grant(buyer.pk, ids)
            owned = sql.owned_course_ids(buyer.pk, ids)
        else:
            owned = lock_buyer_and_read_owned(buyer.pk, ids)
        _refuse_owned(courses, owned)
        open_orders = sql.open_orders(user_id=buyer.pk, course_ids=ids)
        prefetch_related_objects(open_orders, "lines")  # no query when there are none
        for order in open_orders:
            same = {line.course_id for line in order.lines.all()} == set(ids)
            if same and order.total_amount == total and order.expires_at > now + REUSE_MIN_LEFT:
                pay_url = _pay_url(client, order) if client is not None else None
                logger.info("Order %s handed out again to user %s", order.out_trade_no, buyer.pk)
                return PlacedOrder(order=order, pay_url=pay_url, created=False), []
        if open_orders:
            return None, open_orders
        order = Order(
            user=buyer,
            subject=subject,
            total_amount=total,
            out_trade_no=new_out_trade_no(now),
            pay_type=Order.PayType.ALIPAY,
            expires_at=now + timedelta(minutes=settings.ORDER_PAY_TIMEOUT_MINUTES),
        )
        sql.insert_row(order)  # Order.objects.create() without building the InsertQuery
        sql.insert_lines(order_id=order.pk, lines=[(c.pk, c.price, c.real_price) for c in courses])
        if client is None:  # all free: nothing to pay, the courses are the buyer's now
            mark_paid_and_grant(order, trade_no="", paid_at=now)
            logger.info("Free order %s fulfilled for user %s", order.out_trade_no, buyer.pk)
            return PlacedOrder(order=order, pay_url=None), []
        pay_url = _pay_url(client, order)
    logger.info("Order %s placed: %s yuan, user %s", order.out_trade_no, total, buyer.pk)
    return PlacedOrder(order=order, pay_url=pay_url), []


def _close_rival(order: Order) -> None:
    """Close an open order that shares courses with a new one; 409 if it was paid meanwhile."""
    ended = _end_unpaid(order, Order.Status.CANCELLED, strict=True)
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


def _end_unpaid(order: Order, status: int, *, strict: bool = False) -> Order:
    """Close the trade at Alipay, then end the order, unless Alipay says it was paid.

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
            locked.order_status = status
            locked.save(update_fields=["order_status", "updated_time"])
    return locked


def cancel_order(user: User, out_trade_no: str) -> Order:
    order = Order.objects.filter(user=user, out_trade_no=out_trade_no).first()
    if order is None:
        raise exceptions.NotFound(_("订单不存在"))
    if order.order_status == Order.Status.CANCELLED:
        return order
    if order.order_status != Order.Status.UNPAID:
        raise Conflict(_("订单%(status)s,无法取消") % {"status": order.get_order_status_display()})
    order = _end_unpaid(order, Order.Status.CANCELLED)
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
        if _end_unpaid(order, Order.Status.TIMED_OUT).order_status == Order.Status.TIMED_OUT:
            expired.append(order.out_trade_no)
            logger.info("Order %s timed out", order.out_trade_no)
    return expired
