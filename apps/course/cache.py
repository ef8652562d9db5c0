"""Response cache for anonymous catalog reads, invalidated when the catalog changes.

Catalog pages are the same for every anonymous visitor, and most visitors are anonymous, so
their rendered JSON is kept per worker process (the "catalog" cache alias). A cached page is
served only while it is current:

* every save or delete of a category, teacher, course, chapter or section (the admin, scripts)
  bumps a catalog version kept in the shared cache; each worker rereads that version at most
  once per CATALOG_VERSION_CHECK_SECONDS, so an edit shows everywhere within that time;
* prices change without any write when a discount starts or ends, so the next such moment is
  part of the key: once it passes, every page is computed afresh;
* entries also expire after CATALOG_CACHE_SECONDS (student counters, which payments update
  without signals, are at most that old).

Logged-in users (owners see their video links) always get a fresh page.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

VERSION_KEY = "catalog:version"


@dataclass
class _Memo:
    version: str = ""
    checked_at: float = 0.0
    boundary: datetime | None = None  # next discount start/end after `boundary_from`
    boundary_version: str = ""


_memo = _Memo()


def _next_discount_boundary(now: datetime) -> datetime | None:
    """The next moment a discount starts or ends (two index lookups)."""
    from .models import Course

    discounted = Course.objects.filter(discount_price__isnull=False)
    moments = [
        discounted.filter(discount_start__gt=now).order_by("discount_start")
        .values_list("discount_start", flat=True).first(),
        discounted.filter(discount_end__gt=now).order_by("discount_end")
        .values_list("discount_end", flat=True).first(),
    ]  # fmt: skip
    moments = [m for m in moments if m is not None]
    return min(moments) if moments else None


def bump_catalog_version() -> None:
    """Make every cached catalog page stale, in every worker (within the check interval)."""
    version = uuid.uuid4().hex
    shared_cache.set(VERSION_KEY, version, timeout=None)
    _memo.version, _memo.checked_at = version, time.monotonic()


def _current_state() -> str:
    now_mono = time.monotonic()
    if not _memo.version or now_mono - _memo.checked_at >= settings.CATALOG_VERSION_CHECK_SECONDS:
        version = shared_cache.get(VERSION_KEY)
        if version is None:
            version = uuid.uuid4().hex
            shared_cache.add(VERSION_KEY, version, timeout=None)
            version = shared_cache.get(VERSION_KEY, version)
        _memo.version, _memo.checked_at = version, now_mono
    now = timezone.now()
    if _memo.boundary_version != _memo.version or (_memo.boundary and now >= _memo.boundary):
        _memo.boundary = _next_discount_boundary(now)
        _memo.boundary_version = _memo.version
    boundary = int(_memo.boundary.timestamp()) if _memo.boundary else 0
    return f"{_memo.version}:{boundary}"


def _page_ttl() -> int:
    """CATALOG_CACHE_SECONDS, but a cached page must not outlive half of its signed links' life."""
    ttl = settings.CATALOG_CACHE_SECONDS
    qiniu = settings.QINIU
    if qiniu and qiniu.private:
        ttl = min(ttl, max(1, qiniu.link_ttl // 2))
    return ttl


def page_key(request: HttpRequest) -> str:
    """The cache key of an anonymous JSON page (also used by apps/course/document_views.py)."""
    query = request.META.get("QUERY_STRING", "")
    if "&" in query or "%" in query or "+" in query:  # one plain parameter is its own key
        query = "&".join(sorted(request.GET.urlencode().split("&")))
    return f"catalog:{_current_state()}:{request.path}?{query}"


class CachedAnonymousReads:
    """View mixin: GET responses for anonymous JSON clients come from the catalog cache."""

    def _cache_key(self, request: Request) -> str | None:
        if settings.CATALOG_CACHE_SECONDS <= 0 or request.method != "GET":
            return None
        if request.user.is_authenticated or request.auth is not None:
            return None
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is None or renderer.format != "json":
            return None
        return page_key(request)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, negotiation, throttles
        self._catalog_key = self._cache_key(request)
        hit = caches["catalog"].get(self._catalog_key) if self._catalog_key else None
        if hit is not None:
            content, content_type = hit
            # The view instance lives for this request only: answer with the stored page
            # instead of running the view's own handler.
            self.get = lambda *a, **kw: HttpResponse(content, content_type=content_type)

    def finalize_response(
        self, request: Request, response: HttpResponse, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)
        key = getattr(self, "_catalog_key", None)
        if key and isinstance(response, Response) and response.status_code == 200:
            response.render()
            caches["catalog"].set(key, (response.content, response["Content-Type"]), _page_ttl())
        return response
