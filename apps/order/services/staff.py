"""What staff do to orders and ownership by hand, from the admin: cancel an unpaid order, give a
course without an order (with the reason recorded)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from apps.course.models import Course
from apps.user.models import User
from utils.exceptions import Conflict
from utils.logging import get_logger

from ..models import CourseEntitlement, ManualGrant, Order
from . import grants
from .placement import end_unpaid_order
from .transitions import Actor

logger = get_logger("order")


def cancel_unpaid_order(order: Order, *, staff: User) -> Order:
    """Close the trade at Alipay, then cancel the order under its row lock (as a buyer's cancel).

    Races with the notify and the buyer: if Alipay says the order was paid meanwhile, it is
    settled instead and Conflict says so; nothing is cancelled.
    """
    if order.order_status != Order.Status.UNPAID:
        raise Conflict(_("订单%(status)s,无法取消") % {"status": order.get_order_status_display()})
    ended = end_unpaid_order(order, to=Order.Status.CANCELLED, by=Actor.STAFF, strict=True)
    if ended.order_status != Order.Status.CANCELLED:
        raise Conflict(_("订单%(status)s,无法取消") % {"status": ended.get_order_status_display()})
    logger.info("Order %s cancelled by staff %s", order.out_trade_no, staff.pk)
    return ended


def grant_course(user: User, *, course: Course, staff: User, reason: str) -> ManualGrant:
    """Give `user` the course without an order; the reason and the staff member are recorded.

    Through grants.grant_courses, as a payment: the buyer's and the course's row locks, so a
    grant and a payment of the same course cannot both create an entitlement.
    """
    reason = reason.strip()
    if not reason:
        raise Conflict(_("请填写开通原因"))
    with transaction.atomic():
        if grants.grant_courses(user.pk, [course.pk], order=None):  # owned already: nothing done
            raise Conflict(
                _("用户 %(user)s 已拥有课程《%(course)s》")
                % {"user": user.username, "course": course.name}
            )
        entitlement = CourseEntitlement.objects.get(user=user, course=course)
        grant = ManualGrant.objects.create(
            user=user, course=course, staff=staff, reason=reason, entitlement=entitlement
        )
    logger.info("Course %s granted to user %s by staff %s", course.pk, user.pk, staff.pk)
    return grant
