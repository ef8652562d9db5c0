"""What staff do to orders and ownership by hand, from the admin: cancel an unpaid order, give a
course without an order (with the reason recorded)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

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
        raise Conflict(_("订单%(status)s,无法取消") % {"status": order.get_order_status_display()})
    ended = _end_unpaid(order, Order.Status.CANCELLED, strict=True)
    if ended.order_status != Order.Status.CANCELLED:
        raise Conflict(_("订单%(status)s,无法取消") % {"status": ended.get_order_status_display()})
    logger.info("Order %s cancelled by staff %s", order.out_trade_no, staff.pk)
    return ended


def grant_course(user: User, *, course: Course, staff: User, reason: str) -> ManualGrant:
    """Give `user` the course without an order; the reason and the staff member are recorded.

    Holds the buyer's and the course's row locks (`lock_for_grant`), as settling a payment does,
    so a grant and a payment of the same course cannot both create an entitlement.
    """
    reason = reason.strip()
    if not reason:
        raise Conflict(_("请填写开通原因"))
    with transaction.atomic():
        lock_for_grant(user.pk, [course.pk])
        if CourseEntitlement.objects.filter(user=user, course=course).exists():
            raise Conflict(
                _("用户 %(user)s 已拥有课程《%(course)s》")
                % {"user": user.username, "course": course.name}
            )
        entitlement = CourseEntitlement.objects.create(user=user, course=course, order=None)
        Course.objects.filter(pk=course.pk).update(students=F("students") + 1)
        documents.invalidate([course.pk])  # the detail shows `students` (same commit)
        grant = ManualGrant.objects.create(
            user=user, course=course, staff=staff, reason=reason, entitlement=entitlement
        )
    logger.info("Course %s granted to user %s by staff %s", course.pk, user.pk, staff.pk)
    return grant
