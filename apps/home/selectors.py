"""Read queries of the home page."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Banner


def shown_banners() -> QuerySet[Banner]:
    """Banners staff chose to show, in their order (one query)."""
    return Banner.objects.filter(is_show=True).order_by("orders", "id")
