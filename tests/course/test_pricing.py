"""The prepared priced-courses statement returns exactly what `with_current_price()` returns."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.course.models import Course
from apps.course.pricing import PricedCourse, priced_on_sale
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
HOUR = timedelta(hours=1)
# The moments around a discount running from T0 to T0 + 1 h, its boundaries included.
MOMENTS = [
    T0 - timedelta(days=1),
    T0 - timedelta(microseconds=1),
    T0,
    T0 + timedelta(microseconds=1),
    T0 + timedelta(minutes=30),
    T0 + HOUR - timedelta(microseconds=1),
    T0 + HOUR,
    T0 + HOUR + timedelta(seconds=1),
]


def _catalog() -> list[Course]:
    window = {"discount_type": "限时折扣", "discount_start": T0, "discount_end": T0 + HOUR}
    return [
        CourseFactory(price=Decimal("99.00")),  # no discount
        CourseFactory(price=Decimal("99.00"), discount_price=Decimal("49.90"), **window),
        CourseFactory(price=Decimal("0.00")),  # free
        CourseFactory(price=Decimal("12345678.99"), discount_price=Decimal("0.01"), **window),
        CourseFactory(price=Decimal("0.10"), discount_price=Decimal("0.00"), **window),
        # Incomplete discounts never run.
        CourseFactory(price=Decimal("59.00"), discount_price=Decimal("9.00"), discount_start=T0),
        CourseFactory(price=Decimal("59.00"), discount_price=None, **window),
        # Not on sale: absent from both.
        CourseFactory(is_show=False),
        CourseFactory(is_delete=True),
        CourseFactory(status=Course.Status.OFFLINE),
    ]


def _through_the_orm(ids: list[int], now) -> dict[int, PricedCourse]:
    on_sale = Course.objects.visible().with_current_price(now).filter(pk__in=ids)
    return {
        c.pk: PricedCourse(pk=c.pk, name=c.name, price=c.price, real_price=c.real_price)
        for c in on_sale
    }


@pytest.mark.parametrize("moment", range(len(MOMENTS)))
def test_prices_equal_the_orms_before_at_and_after_the_discount_boundaries(moment):
    now = MOMENTS[moment]
    ids = [c.pk for c in _catalog()] + [10**9]  # and an id that does not exist

    priced = priced_on_sale(ids, now=now)

    assert priced == _through_the_orm(ids, now)
    assert len(priced) == 7
    for course in priced.values():  # the same types and exponents, not only equal numbers
        assert type(course.price) is Decimal and type(course.real_price) is Decimal
        assert course.real_price.as_tuple().exponent == -2


def test_the_discount_price_runs_from_its_start_to_just_before_its_end():
    course = CourseFactory(
        price=Decimal("99.00"),
        discount_price=Decimal("49.90"),
        discount_start=T0,
        discount_end=T0 + HOUR,
    )
    price_at = {m: priced_on_sale([course.pk], now=m)[course.pk].real_price for m in MOMENTS}
    assert [str(price_at[m]) for m in MOMENTS] == [
        "99.00", "99.00", "49.90", "49.90", "49.90", "49.90", "99.00", "99.00"
    ]  # fmt: skip


def test_without_a_moment_the_price_is_todays():
    running = CourseFactory(discounted=True)
    assert priced_on_sale([running.pk])[running.pk].real_price == Decimal("49.90")


def test_pricing_is_one_statement_and_none_for_no_ids():
    ids = [c.pk for c in _catalog()]
    with CaptureQueriesContext(connection) as captured:
        priced_on_sale(ids)
        assert priced_on_sale([]) == {}
    assert len(captured.captured_queries) == 1
