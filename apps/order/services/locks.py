"""Row locks shared by the order services, always taken in the same order to avoid deadlocks."""

from __future__ import annotations

from apps.course.models import Course
from apps.user.models import User


def lock_buyer(user_id: int) -> None:
    """Lock the buyer's row: placements, grants and revocations of one buyer run one at a time."""
    User.objects.select_for_update().filter(pk=user_id).values_list("pk").first()


def lock_for_grant(user_id: int, course_ids: list[int]) -> None:
    """Lock the buyer's row, then the courses' rows in id order, before granting or revoking.

    Serialises grants per user, so two orders for one course cannot both grant it. And it must
    come before any insert referencing these rows in the transaction: a foreign-key check takes
    a shared lock, and two transactions that both hold one on a course (or buyer) and then both
    write it (the students counter) deadlock.
    """
    lock_buyer(user_id)
    list(
        Course.objects.select_for_update()
        .filter(pk__in=course_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
