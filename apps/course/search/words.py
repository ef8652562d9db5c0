"""What a search word means besides text: a word that reads as a price may match one."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_PRICE = Decimal("1e8")  # Course.price is DecimalField(max_digits=10, decimal_places=2)
CENT = Decimal("0.01")


def as_price(word: str) -> Decimal | None:
    """The price `word` names (a finite, non-negative number of at most two decimals below
    MAX_PRICE), else None."""
    try:
        value = Decimal(word)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value >= MAX_PRICE:
        return None
    if value != value.quantize(CENT):
        return None  # no price has more than two decimals
    return value
