"""Which courses a user owns, answered by the app that sells them: the catalog only asks.

The order app keeps the entitlements and depends on the catalog, so the catalog must not import
it back. Instead the order app registers its lookup when Django starts (`OrderConfig.ready`
calls `provide`), and the catalog's views ask `owned_course_ids`. With no app registered (a
catalog without a shop), nobody owns anything: everyone sees the free-trial links only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth import get_user_model

OwnedLookup = Callable[[Any, Sequence[int]], set[int]]
DemoGrant = Callable[[Any, int], None]

_lookup: OwnedLookup | None = None
_demo_grant: DemoGrant | None = None


def provide(lookup: OwnedLookup, *, demo_grant: DemoGrant | None = None) -> None:
    """Register the function answering which of some courses (ids) a logged-in user owns,
    and the one giving a user a course without an order (the demo data only: load_demo)."""
    global _lookup, _demo_grant
    _lookup, _demo_grant = lookup, demo_grant


def owned_course_ids(user: Any, course_ids: Sequence[int]) -> set[int]:
    """The ids among `course_ids` that `user` owns (none for a visitor)."""
    if _lookup is None or not user.is_authenticated or not course_ids:
        return set()
    return _lookup(user, course_ids)


def user_owns(user_id: int, course_id: int) -> bool:
    """Whether the user with this id owns the course now (a refund takes it away): for a signed
    media link, which names its viewer by id. The lookup reads only the user's id: no query."""
    return course_id in owned_course_ids(get_user_model()(pk=user_id), [course_id])


def grant_for_demo(user: Any, course_id: int) -> bool:
    """Give the demo learner a course (kept if owned); False with no shop registered."""
    if _demo_grant is None:
        return False
    _demo_grant(user, course_id)
    return True
