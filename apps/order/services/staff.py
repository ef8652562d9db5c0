"""What staff do to orders and ownership by hand, from the admin: cancel an unpaid order, give a
course without an order (with the reason recorded)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from apps.course import documents
from apps.course.models import Course
from apps.user.models import User
from utils.exceptions import Conflict
from utils.logging import get_logger

from ..models import CourseEntitlement, ManualGrant, Order
from .locks import lock_for_grant
from .placement import _end_unpaid

logger = get_logger("order")


def cancel_unpaid_order(order: Order, *, staff: User) -> Order:
    """Close the trade at Alipay, then cancel the order under its row lock (as a buyer's cancel).

    Races with the notify and the buyer: if Alipay says the order was paid meanwhile, it is
    settled instead and Conflict says so; nothing is cancelled.
    """
    if order.order_status != Order.Status.UNPAID:
        raise Conflict(f"订单{order.get_order_status_display()},无法取消")
    ended = _end_unpaid(order, Order.Status.CANCELLED, strict=True)
    if ended.order_status != Order.Status.CANCELLED:
        raise Conflict(f"订单{ended.get_order_status_display()},无法取消")
    logger.info("Order %s cancelled by staff %s", order.out_trade_no, staff.pk)
    return ended


def grant_course(user: User, *, course: Course, staff: User, reason: str) -> ManualGrant:
    """Give `user` the course without an order; the reason and the staff member are recorded.

    Holds the buyer's and the course's row locks (`lock_for_grant`), as settling a payment does,
    so a grant and a payment of the same course cannot both create an entitlement.
    """
    reason = reason.strip()
    if not reason:
        raise Conflict("请填写开通原因")
    with transaction.atomic():
        lock_for_grant(user.pk, [course.pk])
        if CourseEntitlement.objects.filter(user=user, course=course).exists():
            raise Conflict(f"用户 {user.username} 已拥有课程《{course.name}》")
        entitlement = CourseEntitlement.objects.create(user=user, course=course, order=None)
        Course.objects.filter(pk=course.pk).update(students=F("students") + 1)
        documents.invalidate([course.pk])  # the detail shows `students` (same commit)
        grant = ManualGrant.objects.create(
            user=user, course=course, staff=staff, reason=reason, entitlement=entitlement
        )
    logger.info("Course %s granted to user %s by staff %s", course.pk, user.pk, staff.pk)
    return grant
