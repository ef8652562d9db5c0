"""What bench/seed.py wrote and bench/fixtures.py turns into request files: plain data.

Its own module so that seed imports fixtures and fixtures imports this, with no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


def username(user_id: int) -> str:
    return f"user{user_id:07d}"


@dataclass(frozen=True)
class CourseInfo:
    id: int
    name: str
    price: Decimal
    real_price: Decimal
    visible: bool


@dataclass
class Seeded:
    """What the request files need to know about the rows just written."""

    courses: list[CourseInfo]
    history_users: int
    placement_user_ids: list[int]
    notify_orders: list[tuple[str, Decimal]]  # (out_trade_no, total_amount), unpaid
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def visible_ids(self) -> list[int]:
        return [c.id for c in self.courses if c.visible]

    @property
    def buyable(self) -> list[CourseInfo]:
        return [c for c in self.courses if c.visible and c.real_price > 0]
