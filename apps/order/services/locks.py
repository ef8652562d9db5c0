"""Row locks shared by the order services, always taken in the same order to avoid deadlocks:
the order first (when there is one), then its buyer, then the courses in id order."""

from __future__ import annotations

from collections.abc import Iterable

from apps.course.models import Course
from apps.user.models import User


def lock_buyer(user_id: int) -> None:
    """Lock the buyer's row: placements, grants and revocations of one buyer run one at a time.
    (SQLite ignores FOR UPDATE: its first write locks the whole database instead.)"""
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def lock_courses(course_ids: Iterable[int]) -> None:
    """Lock the courses' rows in id order."""
    ids = sorted(set(course_ids))
    if ids:
        locked = Course.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        list(locked.values_list("pk", flat=True))


def lock_for_grant(user_id: int, course_ids: Iterable[int]) -> None:
    """Lock the buyer's row, then the courses' rows in id order, before granting or revoking.

    Serialises grants per user, so two orders for one course cannot both grant it. And it must
    come before any insert referencing these rows in the transaction: a foreign-key check takes
    a shared lock, and two transactions that both hold one on a course (or buyer) and then both
    write it (the students counter) deadlock.
    """
    lock_buyer(user_id)
    lock_courses(course_ids)
