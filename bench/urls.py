"""URLs of `make bench`: the project's, plus the ceiling view (bench/ceiling.py)."""

from django.urls import path

from luffy_api.urls import handler400, handler403, handler404, handler500, urlpatterns

from .ceiling import ceiling

urlpatterns = [
    path("bench/ceiling/", ceiling, name="bench-ceiling"),
    *urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
