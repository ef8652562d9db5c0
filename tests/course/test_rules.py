"""The catalog's rules are written once (apps/course/models.py) and mean the same thing to the
ORM, to Python (`holds`, `Course.discount_active`) and to the search's compiled SQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q

from apps.course.models import Course, discount_running, holds, visible_condition
from apps.course.search import table

from .test_pricing import MOMENTS, _catalog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("moment", range(len(MOMENTS)))
def test_python_and_the_orm_agree_on_a_running_discount_around_its_boundaries(moment):
    now = MOMENTS[moment]
    courses = _catalog()
    running = set(
        Course.objects.filter(discount_running(now), pk__in=[c.pk for c in courses])
        .values_list("pk", flat=True)
    )  # fmt: skip
    assert {c.pk for c in courses if c.discount_active(now)} == running
    assert {c.pk for c in courses if holds(discount_running(now), c)} == running


def test_python_and_the_orm_agree_on_what_shoppers_see():
    courses = _catalog()
    visible = set(Course.objects.visible().values_list("pk", flat=True))
    assert {c.pk for c in courses if holds(visible_condition(), c)} == visible
    assert len(visible) == 7


def test_the_search_tables_condition_is_compiled_from_the_rule():
    courses = _catalog()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table.COURSE_TABLE} WHERE {table.visible_sql()}")  # noqa: S608
        found = {row[0] for row in cursor.fetchall()}
    assert found == {c.pk for c in courses if holds(visible_condition(), c)}


@pytest.mark.parametrize("moment", range(len(MOMENTS)))
def test_a_price_word_matches_what_the_current_price_annotation_says(moment):
    from apps.course.search import numbers

    now = MOMENTS[moment]
    courses = _catalog()
    for price in (Decimal("49.90"), Decimal("99.00"), Decimal("0.01"), Decimal("9.00")):
        sql, params = table.condition_sql(numbers.priced_at(price, now))
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table.COURSE_TABLE} WHERE {sql}", params)  # noqa: S608
            by_sql = {row[0] for row in cursor.fetchall()}
        by_orm = set(
            Course.objects.with_current_price(now)
            .filter(Q(price=price) | Q(current_price=price), pk__in=[c.pk for c in courses])
            .values_list("pk", flat=True)
        )
        assert by_sql == by_orm, (price, now)


def test_holds_refuses_conditions_it_cannot_evaluate():
    course = _catalog()[0]
    with pytest.raises(ValueError, match="AND of field lookups"):
        holds(Q(is_show=True) | Q(is_delete=False), course)
