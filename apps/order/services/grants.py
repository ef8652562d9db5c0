"""Who owns which course: the one place that grants and revokes courses.

Every way in goes through here: a payment, a free order, a staff grant, a refund (staff, double
payment, Alipay's console). Each takes the buyer's and the courses' row locks first
(`lock_for_grant`), keeps the courses' `students` counters and empties their documents (the
detail shows `students`) in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F

from apps.course import documents
from apps.course.models import Course

from ..models import CourseEntitlement, Order
from .locks import lock_for_grant


def owned_course_ids(user_id: int, course_ids: Iterable[int]) -> set[int]:
    """Which of these courses the user owns."""
    owned = CourseEntitlement.objects.filter(user_id=user_id, course_id__in=list(course_ids))
    return set(owned.values_list("course_id", flat=True))


def grant_courses(user_id: int, course_ids: Iterable[int], *, order: Order | None) -> list[int]:
    """Give the user the courses they do not own yet, from `order` (None: from staff).

    Returns the courses the user already owned, untouched (for a paid order: paid twice, to be
    refunded). Runs inside the caller's transaction, after the order's lock when there is one.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("grant_courses runs inside transaction.atomic()")
    ids = list(dict.fromkeys(course_ids))
    lock_for_grant(user_id, ids)
    owned = owned_course_ids(user_id, ids)
    new_ids = [pk for pk in ids if pk not in owned]
    if new_ids:
        CourseEntitlement.objects.bulk_create(
            [CourseEntitlement(user_id=user_id, course_id=pk, order=order) for pk in new_ids]
        )
        Course.objects.filter(pk__in=new_ids).update(students=F("students") + 1)
        documents.invalidate(new_ids)
    return sorted(owned)


def grant_without_order(user: Any, course_id: int) -> None:
    """Give a user a course with neither order nor staff record: the demo data (load_demo)."""
    with transaction.atomic():
        grant_courses(user.pk, [course_id], order=None)


def revoke_courses(order: Order, course_ids: Iterable[int]) -> list[int]:
    """Take back the courses this order granted (not those granted by another order or by
    staff); returns them. Runs inside the caller's transaction, after the order's lock."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("revoke_courses runs inside transaction.atomic()")
    ids = list(course_ids)
    lock_for_grant(order.user_id, ids)
    granted = CourseEntitlement.objects.filter(
        user_id=order.user_id, order=order, course_id__in=ids
    )
    revoked = list(granted.values_list("course_id", flat=True))
    if revoked:
        granted.delete()
        Course.objects.filter(pk__in=revoked, students__gt=0).update(students=F("students") - 1)
        documents.invalidate(revoked)
    return revoked
