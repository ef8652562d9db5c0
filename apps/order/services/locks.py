"""Row locks shared by the order services, always taken in the same order to avoid deadlocks."""

from __future__ import annotations

from . import sql


def lock_buyer(user_id: int) -> None:
    """Lock the buyer's row: placements, grants and revocations of one buyer run one at a time."""
    sql.lock_user(user_id)


def lock_for_grant(user_id: int, course_ids: list[int]) -> None:
    """Lock the buyer's row, then the courses' rows in id order, before granting or revoking.

    Serialises grants per user, so two orders for one course cannot both grant it. And it must
    come before any insert referencing these rows in the transaction: a foreign-key check takes
    a shared lock, and two transactions that both hold one on a course (or buyer) and then both
    write it (the students counter) deadlock.
    """
    lock_buyer(user_id)
    ids = sorted(set(course_ids))
    if ids:
        sql.lock_courses(ids)
