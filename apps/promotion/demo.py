"""The demo's flash sale (manage.py load_demo): a paid course at a sale price, on now."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from apps.course.models import Course

from .models import FlashSale

DEMO_SEATS = 100
DEMO_SALE_PRICE = Decimal("99.00")
DEMO_WINDOW = timedelta(days=3)


def ensure_demo_flash_sale(course: Course, *, now: datetime) -> FlashSale:
    """The course's flash sale running now, or a new one (100 seats, three days from an hour
    ago). A rerun keeps a running sale as it is, with the seats it has sold."""
    running = FlashSale.objects.filter(course=course, starts_at__lte=now, ends_at__gt=now).first()
    if running is not None:
        return running
    return FlashSale.objects.create(
        course=course,
        sale_price=DEMO_SALE_PRICE,
        seats=DEMO_SEATS,
        starts_at=now - timedelta(hours=1),
        ends_at=now - timedelta(hours=1) + DEMO_WINDOW,
    )
