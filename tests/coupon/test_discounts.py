"""The discount rules on Decimal yuan: kinds, scope, the ¥0.01 floor, the split to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.coupon.discounts import Line, Scope, discount_for, split_discount
from apps.coupon.models import Coupon

D = Decimal
ALL = Scope(kind=Coupon.Scope.ALL)


def coupon(**fields) -> Coupon:
    return Coupon(**{"min_spend": D("0.00"), **fields})


def lines(*prices: str, category: int = 1) -> list[Line]:
    return [Line(course_id=i + 1, category_id=category, price=D(p)) for i, p in enumerate(prices)]


def test_threshold_coupon_takes_its_amount_off_only_from_the_minimum_spend():
    full = coupon(kind=Coupon.Kind.THRESHOLD, amount=D("30.00"), min_spend=D("199.00"))
    assert discount_for(full, ALL, lines("99.00", "100.00")) == D("30.00")
    assert discount_for(full, ALL, lines("99.00", "99.99")) == D("0.00")


def test_percent_coupon_rounds_down_to_the_fen_and_stops_at_its_cap():
    pct = coupon(kind=Coupon.Kind.PERCENT, percent_off=15, max_discount=D("20.00"))
    assert discount_for(pct, ALL, lines("33.33")) == D("4.99")  # 4.9995 -> 4.99
    assert discount_for(pct, ALL, lines("199.00")) == D("20.00")  # 29.85 capped


def test_amount_coupon_counts_only_the_lines_in_its_scope():
    off = coupon(kind=Coupon.Kind.AMOUNT, amount=D("10.00"), min_spend=D("50.00"))
    only_2 = Scope(kind=Coupon.Scope.COURSES, course_ids=frozenset({2}))
    assert discount_for(off, only_2, lines("99.00", "49.00")) == D("0.00")  # 49 < 50
    assert discount_for(off, only_2, lines("10.00", "60.00")) == D("10.00")
    other_category = Scope(kind=Coupon.Scope.CATEGORIES, category_ids=frozenset({7}))
    assert discount_for(off, other_category, lines("99.00")) == D("0.00")


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        (("10.00",), D("9.99")),  # 立减 ¥10 on ¥10: ¥0.01 is left to pay
        (("3.00", "2.00"), D("4.99")),
        (("0.01",), D("0.00")),  # nothing can come off: the coupon does not apply
        (("0.00",), D("0.00")),
    ],
)
def test_a_coupon_never_takes_the_lines_it_applies_to_below_one_fen(prices, expected):
    off = coupon(kind=Coupon.Kind.AMOUNT, amount=D("10.00"))
    assert discount_for(off, ALL, lines(*prices)) == expected


def test_split_follows_the_prices_and_adds_up_to_the_discount_exactly():
    shares = split_discount(D("10.00"), ALL, lines("33.33", "33.33", "33.34"))
    assert shares == [D("3.33"), D("3.33"), D("3.34")]
    assert sum(shares) == D("10.00")


def test_split_gives_the_leftover_fen_to_the_largest_remainders_then_the_earlier_line():
    # 0.10 over 3 equal lines: 3 fen each, 1 fen left to the first line (a tie).
    assert split_discount(D("0.10"), ALL, lines("1.00", "1.00", "1.00")) == [
        D("0.04"),
        D("0.03"),
        D("0.03"),
    ]
    # 1.00 over 1.00/2.00: exact shares 0.3333…/0.6666…: the larger remainder gets the fen.
    assert split_discount(D("1.00"), ALL, lines("1.00", "2.00")) == [D("0.33"), D("0.67")]


def test_split_leaves_lines_out_of_scope_alone_and_never_below_zero():
    only_1 = Scope(kind=Coupon.Scope.COURSES, course_ids=frozenset({1, 3}))
    prices = lines("0.01", "50.00", "9.99")
    discount = discount_for(coupon(kind=Coupon.Kind.AMOUNT, amount=D("99.00")), only_1, prices)
    shares = split_discount(discount, only_1, prices)
    assert discount == D("9.99")
    assert shares[1] == D("0.00")
    assert sum(shares) == discount
    assert all(line.price - share >= 0 for line, share in zip(prices, shares, strict=True))


@pytest.mark.parametrize("seed", range(20))
def test_split_is_exact_for_random_prices(seed):
    import random

    rng = random.Random(seed)
    prices = lines(*(f"{rng.randint(0, 99999) / 100:.2f}" for _ in range(rng.randint(1, 8))))
    subtotal = sum(line.price for line in prices)
    discount = discount_for(
        coupon(kind=Coupon.Kind.AMOUNT, amount=D(rng.randint(1, 200000)) / 100), ALL, prices
    )
    shares = split_discount(discount, ALL, prices)
    assert sum(shares) == discount
    assert subtotal - discount >= D("0.01") or discount == 0
    assert all(0 <= share <= line.price for line, share in zip(prices, shares, strict=True))
