"""Read-side queries of orders and ownership."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from apps.course.models import Course
from apps.user.models import User

from .models import CourseEntitlement, Order, OrderDetail


def orders_of(user: User) -> QuerySet[Order]:
    """A user's orders, newest first, with their details and courses (two queries a page)."""
    return Order.objects.filter(user=user).prefetch_related(
        Prefetch("lines", queryset=OrderDetail.objects.select_related("course"))
    )


def owned_course_ids(user: User | AnonymousUser, course_ids: list[int]) -> set[int]:
    if not user.is_authenticated or not course_ids:
        return set()
    return set(
        CourseEntitlement.objects.filter(user=user, course_id__in=course_ids).values_list(
            "course_id", flat=True
        )
    )


def owned_courses(user: User) -> QuerySet[Course]:
    """Courses the user owns, most recently granted first (hidden ones too: they were paid)."""
    return (
        Course.objects.filter(entitlements__user=user, is_delete=False)
        .with_current_price()
        .select_related("teacher")
        .order_by("-entitlements__created_time", "-id")
    )
