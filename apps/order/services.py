"""Order rules: placing an order, settling a payment exactly once, cancelling, expiring.

Every change of an order's state happens in a transaction holding the order's row lock, so a
notify, the return-page check, the reconcile job and a cancel can race without harm.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import exceptions

from apps.course.models import Course
from apps.user.models import User
from libs import iPay
from utils.exceptions import Conflict, ServiceUnavailable
from utils.logging import get_logger

from .models import CourseEntitlement, Order, OrderDetail

logger = get_logger("order")

# An order is only timed out this long after Alipay stopped accepting payment for it, so a
# payment completed on the last second has time to be notified.
EXPIRY_GRACE = timedelta(minutes=2)
SUBJECT_MAX = 150
RECONCILE_GIVE_UP_AFTER = 3  # consecutive failed trade queries


class SettlementRejected(Exception):
    """A payment report that must not be accepted (unknown order, wrong amount)."""


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    pay_url: str | None  # None when nothing is left to pay (free courses)


def new_out_trade_no(now: datetime | None = None) -> str:
    """Time-ordered (sorts by creation) and unguessable: 20 digits of time + 16 hex digits."""
    now = timezone.localtime(now or timezone.now())
    return f"{now:%Y%m%d%H%M%S%f}{secrets.token_hex(8)}"


def _buyable_courses(user: User, course_ids: list[int]) -> list[Course]:
    if len(set(course_ids)) != len(course_ids):
        raise exceptions.ValidationError({"courses": ["课程不能重复"]})
    found = {
        c.pk: c for c in Course.objects.visible().with_current_price().filter(pk__in=course_ids)
    }
    missing = [pk for pk in course_ids if pk not in found]
    if missing:
        raise exceptions.ValidationError(
            {"courses": [f"课程不存在或已下架: {', '.join(map(str, missing))}"]}
        )
    owned = set(
        CourseEntitlement.objects.filter(user=user, course_id__in=course_ids).values_list(
            "course_id", flat=True
        )
    )
    if owned:
        names = "、".join(found[pk].name for pk in course_ids if pk in owned)
        raise Conflict(f"您已拥有课程: {names}")
    return [found[pk] for pk in course_ids]


def place_order(
    user: User,
    course_ids: list[int],
    total_amount: Decimal,
    subject: str = "",
    pay_type: int = Order.PayType.ALIPAY,
) -> PlacedOrder:
    """Price the courses, store the order unpaid and return where to pay it.

    The client's total must equal the server's sum of current prices to the cent; otherwise the
    buyer saw another price than the one we would charge.
    """
    if pay_type != Order.PayType.ALIPAY:
        raise exceptions.ValidationError({"pay_type": ["暂只支持支付宝支付"]})
    courses = _buyable_courses(user, course_ids)
    server_total = sum((c.real_price for c in courses), Decimal("0.00"))
    if total_amount != server_total:
        raise exceptions.ValidationError(
            {
                "total_amount": [
                    f"课程价格已变动,当前应付 {iPay.format_amount(server_total)} 元,请刷新后重试"
                ]
            }
        )
    subject = (subject.strip() or "、".join(c.name for c in courses))[:SUBJECT_MAX]
    client = None
    if server_total > 0:
        try:
            client = iPay.get_client()
        except iPay.PaymentNotConfigured:
            raise ServiceUnavailable("支付宝支付未配置,暂时无法下单") from None

    now = timezone.now()
    with transaction.atomic():
        if client is None:  # granted below, in this transaction: lock before inserting
            _lock_for_grant(user.pk, [c.pk for c in courses])
        order = Order.objects.create(
            user=user,
            subject=subject,
            total_amount=server_total,
            out_trade_no=new_out_trade_no(now),
            pay_type=pay_type,
            expires_at=now + timedelta(minutes=settings.ORDER_PAY_TIMEOUT_MINUTES),
        )
        OrderDetail.objects.bulk_create(
            OrderDetail(order=order, course=c, price=c.price, real_price=c.real_price)
            for c in courses
        )
        if client is None:  # all free: nothing to pay, the courses are the buyer's now
            _mark_paid(order, trade_no="", paid_at=now)
            logger.info("Free order %s fulfilled for user %s", order.out_trade_no, user.pk)
            return PlacedOrder(order=order, pay_url=None)
        pay_url = client.page_pay_url(
            out_trade_no=order.out_trade_no,
            total_amount=order.total_amount,
            subject=order.subject,
            expires_at=order.expires_at,
        )
    logger.info("Order %s placed: %s yuan, user %s", order.out_trade_no, server_total, user.pk)
    return PlacedOrder(order=order, pay_url=pay_url)


def _lock_for_grant(user_id: int, course_ids: list[int]) -> None:
    """Lock the buyer's row, then the courses' rows in id order, before granting courses.

    Serialises grants per user, so two orders for one course cannot both grant it. And it must
    come before any insert referencing these rows in the transaction: a foreign-key check takes
    a shared lock, and two transactions that both hold one on a course (or buyer) and then both
    write it (the students counter) deadlock.
    """
    User.objects.select_for_update().filter(pk=user_id).values_list("pk").first()
    list(
        Course.objects.select_for_update()
        .filter(pk__in=course_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _grant_courses(order: Order) -> list[int]:
    """Give the buyer the order's courses they do not own yet; count them as students."""
    course_ids = list(order.order_courses.values_list("course_id", flat=True))
    _lock_for_grant(order.user_id, course_ids)
    owned = set(
        CourseEntitlement.objects.filter(
            user_id=order.user_id, course_id__in=course_ids
        ).values_list("course_id", flat=True)
    )
    new_ids = [pk for pk in course_ids if pk not in owned]
    CourseEntitlement.objects.bulk_create(
        CourseEntitlement(user_id=order.user_id, course_id=pk, order=order) for pk in new_ids
    )
    Course.objects.filter(pk__in=new_ids).update(students=F("students") + 1)
    if owned:
        logger.error(
            "Order %s paid for courses %s the user already owned: refund them",
            order.out_trade_no,
            sorted(owned),
        )
    return new_ids


def _mark_paid(order: Order, *, trade_no: str, paid_at: datetime) -> None:
    order.order_status = Order.Status.PAID
    order.trade_no = trade_no
    order.pay_time = paid_at
    order.save(update_fields=["order_status", "trade_no", "pay_time", "updated_time"])
    _grant_courses(order)


def settle_payment(
    out_trade_no: str, *, trade_no: str, total_amount: Decimal, paid_at: datetime | None
) -> str:
    """Record that Alipay received the payment of an order; grant its courses once.

    Returns 'settled', 'settled_late' (the order had been cancelled or timed out: the money is
    taken, so the buyer gets the courses) or 'duplicate' (already paid: nothing changes).
    Raises SettlementRejected for an unknown order or a different amount.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        if order is None:
            raise SettlementRejected(f"unknown order {out_trade_no!r}")
        if total_amount != order.total_amount:
            raise SettlementRejected(
                f"amount {total_amount} does not match order total {order.total_amount}"
            )
        if order.order_status == Order.Status.PAID:
            if trade_no and order.trade_no and trade_no != order.trade_no:
                logger.error(
                    "Order %s paid twice: trades %s and %s; refund the second",
                    out_trade_no,
                    order.trade_no,
                    trade_no,
                )
            return "duplicate"
        late = order.order_status != Order.Status.UNPAID
        previous = order.get_order_status_display()
        _mark_paid(order, trade_no=trade_no, paid_at=paid_at or timezone.now())
    if late:
        logger.warning(
            "Payment for %s order %s accepted: order reopened as paid", previous, out_trade_no
        )
        return "settled_late"
    logger.info("Order %s paid (trade %s)", out_trade_no, trade_no)
    return "settled"


def mark_closed(out_trade_no: str, total_amount: Decimal | None = None) -> bool:
    """Alipay closed the trade: an unpaid order becomes cancelled. True if it changed."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(out_trade_no=out_trade_no).first()
        if order is None:
            raise SettlementRejected(f"unknown order {out_trade_no!r}")
        if total_amount is not None and total_amount != order.total_amount:
            raise SettlementRejected("amount does not match the order")
        if order.order_status != Order.Status.UNPAID:
            return False
        order.order_status = Order.Status.CANCELLED
        order.save(update_fields=["order_status", "updated_time"])
    logger.info("Order %s cancelled: Alipay closed its trade", out_trade_no)
    return True


def _settle_if_alipay_paid(order: Order) -> Order:
    """Ask Alipay about an unsettled order and settle it if paid. Raises AlipayUnavailable."""
    trade = iPay.get_client().query_trade(order.out_trade_no)
    if trade is not None and trade.is_paid:
        try:
            settle_payment(
                order.out_trade_no,
                trade_no=trade.trade_no,
                total_amount=trade.total_amount,
                paid_at=trade.paid_at,
            )
        except SettlementRejected as exc:
            logger.error("Alipay reports %s paid but: %s", order.out_trade_no, exc)
        except DatabaseError:
            # Nothing was written (one transaction); the notify or the next check settles it.
            logger.exception("Settling %s after a trade query failed", order.out_trade_no)
            return order
        order.refresh_from_db()
    return order


def refresh_from_alipay(order: Order) -> Order:
    """Ask Alipay whether an unsettled order was paid, and settle it if so.

    For shops that never receive notifies (firewalls) and for the pay-success page. Alipay being
    unreachable or confused is logged and changes nothing.
    """
    if order.is_paid or not iPay.is_configured():
        return order
    try:
        return _settle_if_alipay_paid(order)
    except iPay.AlipayUnavailable as exc:
        logger.warning("Trade query for %s failed: %s", order.out_trade_no, exc)
        return order


def _close_at_alipay(out_trade_no: str) -> str | None:
    """Close the Alipay trade; None when Alipay is not configured or cannot be reached."""
    if not iPay.is_configured():
        return None
    try:
        return iPay.get_client().close_trade(out_trade_no)
    except iPay.AlipayUnavailable as exc:
        logger.warning("Closing Alipay trade %s failed: %s", out_trade_no, exc)
        return None


def _end_unpaid(order: Order, status: int) -> Order:
    """Close the trade at Alipay, then end the order, unless Alipay says it was paid."""
    if _close_at_alipay(order.out_trade_no) == "ACQ.TRADE_STATUS_ERROR":
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
        raise exceptions.NotFound("订单不存在")
    if order.order_status == Order.Status.CANCELLED:
        return order
    if order.order_status != Order.Status.UNPAID:
        raise Conflict(f"订单{order.get_order_status_display()},无法取消")
    order = _end_unpaid(order, Order.Status.CANCELLED)
    if order.order_status != Order.Status.CANCELLED:
        raise Conflict(f"订单{order.get_order_status_display()},无法取消")
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


def reconcile_orders(since: datetime, limit: int = 500) -> list[str]:
    """Ask Alipay about recent orders not marked paid; settle those it says are paid."""
    unsettled = [Order.Status.UNPAID, Order.Status.CANCELLED, Order.Status.TIMED_OUT]
    pending = Order.objects.filter(
        order_status__in=unsettled, created_time__gte=since, total_amount__gt=0
    )
    settled: list[str] = []
    failures_in_a_row = 0
    for order in pending.order_by("created_time")[:limit]:
        try:
            if _settle_if_alipay_paid(order).is_paid:
                settled.append(order.out_trade_no)
            failures_in_a_row = 0
        except iPay.AlipayUnavailable as exc:
            logger.warning("Trade query for %s failed: %s", order.out_trade_no, exc)
            failures_in_a_row += 1
            if failures_in_a_row >= RECONCILE_GIVE_UP_AFTER:
                # Alipay is down: waiting out a timeout per order would outlast the cron period.
                logger.warning(
                    "Alipay failed %d times in a row: reconcile stops", failures_in_a_row
                )
                break
    return settled
