"""What shoppers see of flash sales: the ones running now and the ones coming."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from apps.course.models import Course

from .models import FlashSale


def current_and_coming(now: datetime) -> QuerySet[FlashSale]:
    """Sales not over yet, of courses on show, soonest first."""
    return (
        FlashSale.objects.filter(ends_at__gt=now, course__in=Course.objects.visible())
        .select_related("course")
        .order_by("starts_at", "id")
    )
