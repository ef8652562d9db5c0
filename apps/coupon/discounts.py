"""What a coupon takes off an order, and how that discount is split across its lines, to the fen.

Pure arithmetic on Decimal yuan (no database): the selectors show it, the placement charges it.

The floor rule: a coupon never takes the lines it applies to below ¥0.01 in total. Its discount
is capped at (their subtotal − 0.01), so an order with a coupon always has something for Alipay
to charge (Alipay's minimum is 0.01) and is never granted as free; a coupon whose capped discount
is 0.00 does not apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from .models import Coupon

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    """An order line as a coupon sees it: the course, its category, the price paid now."""

    course_id: int
    category_id: int | None
    price: Decimal


@dataclass(frozen=True)
class Scope:
    """Which courses a coupon applies to (its M2M rows read once)."""

    kind: str
    category_ids: frozenset[int] = frozenset()
    course_ids: frozenset[int] = frozenset()

    def covers(self, line: Line) -> bool:
        if self.kind == Coupon.Scope.COURSES:
            return line.course_id in self.course_ids
        if self.kind == Coupon.Scope.CATEGORIES:
            return line.category_id in self.category_ids
        return True


def _raw_discount(coupon: Coupon, subtotal: Decimal) -> Decimal:
    """The coupon's discount on `subtotal` before the floor rule; 0 when min_spend is not met."""
    if subtotal < coupon.min_spend:
        return ZERO
    if coupon.kind == Coupon.Kind.PERCENT:
        # Rounded down to the fen: the shop never gives more than the percentage says.
        off = (subtotal * (coupon.percent_off or 0) / 100).quantize(CENT, rounding=ROUND_DOWN)
        if coupon.max_discount is not None:
            off = min(off, coupon.max_discount)
        return off
    return coupon.amount or ZERO


def discount_for(coupon: Coupon, scope: Scope, lines: Sequence[Line]) -> Decimal:
    """What `coupon` takes off these lines: 0.00 when it does not apply (no line in scope, the
    minimum spend not met, or the floor rule leaves nothing)."""
    subtotal = sum((line.price for line in lines if scope.covers(line)), ZERO)
    return max(ZERO, min(_raw_discount(coupon, subtotal), subtotal - CENT))


def split_discount(discount: Decimal, scope: Scope, lines: Sequence[Line]) -> list[Decimal]:
    """The discount of each line (in the order given), in proportion to the prices of the lines
    in scope, exact to the fen: they add up to `discount` (largest-remainder method; a tie goes
    to the earlier line). Lines out of scope get 0.00."""
    fen = [int(line.price / CENT) if scope.covers(line) else 0 for line in lines]
    total_fen, discount_fen = sum(fen), int(discount / CENT)
    if discount_fen == 0 or total_fen == 0:
        return [ZERO for _ in lines]
    shares = [discount_fen * f // total_fen for f in fen]
    remainders = [discount_fen * f % total_fen for f in fen]
    left = discount_fen - sum(shares)
    for i in sorted(range(len(lines)), key=lambda i: -remainders[i])[:left]:
        shares[i] += 1
    return [Decimal(share) * CENT for share in shares]
