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

from apps.course import pricing
from apps.course.pricing import PricedCourse
from apps.user.models import User
from libs import iPay
from utils.db import batch
from utils.exceptions import Conflict, ServiceUnavailable
from utils.logging import get_logger

from ..models import Order
from . import sql
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
    """The order as the server prices it: its courses, the total to pay, the subject."""

    courses: list[PricedCourse]
    total: Decimal
    subject: str


def _priced(
    course_ids: list[int], found: dict[int, PricedCourse], total_amount: Decimal
) -> _Priced:
    """The courses on sale priced now (400 for a missing one), the client's total checked to
    the cent against the server's sum (400 with the amount to pay), the subject: the course
    names, never the buyer's text (it reaches Alipay's page and the staff's exports)."""
    courses = _buyable_courses(course_ids, found)
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
    subject = "、".join(c.name for c in courses)[:SUBJECT_MAX]
    return _Priced(courses=courses, total=server_total, subject=subject)


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
    _unique(course_ids)
    priced = None  # priced in the first round, in its first request to the database
    for _round in range(PLACE_ROUNDS):
        placed, rivals, priced = _place_under_buyer_lock(buyer, course_ids, total_amount, priced)
        if placed is not None:
            return placed
        for rival in rivals:  # outside any transaction: closing asks Alipay over the network
            _close_rival(rival)
    raise Conflict(_("您有正在处理的订单,请稍后重试"))


def _place_under_buyer_lock(
    buyer: User,
    course_ids: list[int],
    total_amount: Decimal,
    priced: _Priced | None,
) -> tuple[PlacedOrder | None, list[Order], _Priced]:
    """(the placed or reused order, None) or (None, the open orders that must be closed first),
    and the order as priced (`priced`, or priced now when it is None).

    Runs under the buyer's row lock, so two placements by one buyer take turns: the second sees
    the first's order and reuses it. Races with settlement (same lock) and nothing else.

    The reads go to the database in one request (utils/db/batch.py), with the transaction's
    BEGIN: the prices (no lock, as before the transaction), then the buyer's lock with the
    courses the buyer owns (`lock_user_and_owned`), then the open orders, read after the lock
    so that a placement that held it has committed and is seen (READ COMMITTED). None of them
    depends on another's result, and none writes: every rule is applied in Python afterwards,
    in the order the answers always came (400 for prices, 503 without Alipay, 409 for an owned
    course, then the open orders). A 400 or 503 rolls the transaction back, nothing written.
    """
    ids = list(course_ids)
    now = timezone.now()
    with transaction.atomic():
        reads = [] if priced is not None else [pricing.priced_statement(ids, now=now)]
        reads += [
            sql.lock_user_and_owned_statement(buyer.pk, ids),
            sql.open_orders_statement(user_id=buyer.pk, course_ids=ids),
        ]
        *price_read, owned_read, open_read = batch.run(reads)
        if priced is None:
            priced = _priced(ids, pricing.priced_from_rows(price_read[0].rows), total_amount)
        courses, total = priced.courses, priced.total
        client = None
        if total > 0:
            try:
                client = iPay.get_client()
            except iPay.PaymentNotConfigured:
                # Owning a course is the answer that matters (409).
                _refuse_owned(courses, sql.owned_from_rows(owned_read.rows))
                raise ServiceUnavailable(_("支付宝支付未配置,暂时无法下单")) from None
        else:
            # Granted below, in this transaction: the courses are locked (after the buyer, in id
            # order: lock_for_grant's order) before any insert refers to them.
            sql.lock_courses(sorted(ids))
        # Whether the buyer owns a course was read under the lock: a notify may have just
        # granted one.
        _refuse_owned(courses, sql.owned_from_rows(owned_read.rows))
        open_orders = sql.orders_from_rows(open_read.rows)
        prefetch_related_objects(open_orders, "lines")  # no query when there are none
        for order in open_orders:
            same = {line.course_id for line in order.lines.all()} == set(ids)
            if same and order.total_amount == total and order.expires_at > now + REUSE_MIN_LEFT:
                pay_url = _pay_url(client, order) if client is not None else None
                logger.info("Order %s handed out again to user %s", order.out_trade_no, buyer.pk)
                return PlacedOrder(order=order, pay_url=pay_url, created=False), [], priced
        if open_orders:
            return None, open_orders, priced
        order = Order(
            user=buyer,
            subject=priced.subject,
            total_amount=total,
            out_trade_no=new_out_trade_no(now),
            pay_type=Order.PayType.ALIPAY,
            expires_at=now + timedelta(minutes=settings.ORDER_PAY_TIMEOUT_MINUTES),
        )
        lines = [(c.pk, c.price, c.real_price) for c in courses]
        if client is None:  # all free: nothing to pay, the courses are the buyer's now
            sql.insert_order_and_lines(order, lines=lines)
            mark_paid_and_grant(order, trade_no="", paid_at=now)
            logger.info("Free order %s fulfilled for user %s", order.out_trade_no, buyer.pk)
            return PlacedOrder(order=order, pay_url=None), [], priced
        # Signed before the order is written (it needs none of the database's answers), so the
        # order and its lines are the transaction's last statements: one request with the
        # COMMIT on MariaDB. Order.objects.create() and its lines without InsertQuerys.
        pay_url = _pay_url(client, order)
        sql.insert_order_and_lines(order, lines=lines, commit=True)
    logger.info("Order %s placed: %s yuan, user %s", order.out_trade_no, total, buyer.pk)
    return PlacedOrder(order=order, pay_url=pay_url), [], priced


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
