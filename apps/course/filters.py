"""Query-string filters and ordering shared by the course list and the search."""

from __future__ import annotations

from decimal import Decimal

import django_filters

from .models import Course

PRICE_BOUND = {
    "min_value": Decimal("0"),
    "max_value": Decimal("99999999.99"),
    "max_digits": 10,
    "decimal_places": 2,
}


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key as tie-breaker, so pages never repeat or skip a course."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "id")
        return qs


class CourseFilter(django_filters.FilterSet):
    course_type = django_filters.ChoiceFilter(choices=Course.CourseType.choices)
    # Price bounds apply to the price a buyer pays now (discounts included).
    min_price = django_filters.NumberFilter(
        field_name="current_price", lookup_expr="gte", **PRICE_BOUND
    )
    max_price = django_filters.NumberFilter(
        field_name="current_price", lookup_expr="lte", **PRICE_BOUND
    )
    ordering = StableOrderingFilter(
        fields=(("orders", "orders"), ("current_price", "price"), ("students", "students")),
        field_labels={
            "orders": "Shop's order (as listed by staff)",
            "current_price": "Price paid now",
            "students": "Number of students",
        },
        help_text="orders, price (the price paid now) or students; prefix - for descending",
    )

    class Meta:
        model = Course
        fields = ["course_category", "course_type", "min_price", "max_price"]
