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

When the shared cache cannot be reached (a Redis outage), nobody can know the current version:
pages are then computed afresh and not cached, the worker drops the pages it holds, and an edit
whose bump could not be stored is bumped by its worker once Redis answers again. The outage is
logged at ERROR, at most once a minute per process.

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
from django.utils import timezone, translation
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.request import Request
from rest_framework.response import Response

from utils.logging import AtMostEvery, get_logger

from .models import Course

logger = get_logger("course.cache")

VERSION_KEY = "catalog:version"
# What an unreachable Redis raises (the database cache's failures are faults, not outages).
_SHARED_CACHE_DOWN = (RedisConnectionError, RedisTimeoutError)
_outage_log = AtMostEvery(60.0)  # an outage is logged once a minute per process


@dataclass
class _Memo:
    version: str = ""
    checked_at: float = 0.0
    boundary: datetime | None = None  # next discount start/end after `boundary_from`
    boundary_version: str = ""
    # The shared cache did not answer at `checked_at`: no version is known until it does.
    unreachable: bool = False
    # This worker's edit could not store its new version: store it once the cache answers.
    bump_pending: bool = False


_memo = _Memo()


def _log_outage(error: Exception, doing: str) -> None:
    if _outage_log.due():
        logger.error("Redis unreachable (%s) %s: catalog pages are served uncached", error, doing)


def _next_discount_boundary(now: datetime) -> datetime | None:
    """The next moment a discount starts or ends (two index lookups)."""
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
    try:
        shared_cache.set(VERSION_KEY, version, timeout=None)
    except _SHARED_CACHE_DOWN as error:
        # Runs on commit: the edit is saved, so raising would only turn it into a 500.
        _log_outage(error, "bumping the catalog version")
        _memo.bump_pending, _memo.unreachable, _memo.version = True, True, ""
        caches["catalog"].clear()
        return
    _memo.version, _memo.checked_at = version, time.monotonic()
    _memo.unreachable = False


def _read_shared_version() -> str:
    if _memo.bump_pending:  # an edit made during the outage: every worker must drop its pages
        shared_cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        _memo.bump_pending = False
    version = shared_cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        shared_cache.add(VERSION_KEY, version, timeout=None)
        version = shared_cache.get(VERSION_KEY, version)
    return version


def _current_state() -> str | None:
    """The part of every page key that changes with the catalog; None while the shared cache
    cannot be reached (then nothing is cached)."""
    now_mono = time.monotonic()
    due = now_mono - _memo.checked_at >= settings.CATALOG_VERSION_CHECK_SECONDS
    if _memo.unreachable and not due:
        return None  # ask a down Redis again only once per check interval
    if not _memo.version or due:
        try:
            version = _read_shared_version()
        except _SHARED_CACHE_DOWN as error:
            _log_outage(error, "reading the catalog version")
            # Pages held from before may miss edits made meanwhile: drop them.
            caches["catalog"].clear()
            _memo.version, _memo.checked_at, _memo.unreachable = "", now_mono, True
            return None
        _memo.version, _memo.checked_at, _memo.unreachable = version, now_mono, False
    now = timezone.now()
    if _memo.boundary_version != _memo.version or (_memo.boundary and now >= _memo.boundary):
        _memo.boundary = _next_discount_boundary(now)
        _memo.boundary_version = _memo.version
    boundary = int(_memo.boundary.timestamp()) if _memo.boundary else 0
    return f"{_memo.version}:{boundary}"


def anonymous_json_get(request: HttpRequest) -> bool:
    """Whether DRF would answer `request` with the JSON bytes every visitor gets: the one gate
    in front of the page cache and the course documents (apps/course/document_views.py).

    A GET with no token (JWT is the only authentication: a token means a 401 or an owner's
    links), no `?format=`, asking for JSON, anything or nothing in particular, without media
    type parameters (`; indent=4` renders other bytes, `text/html` the browsable API), in the
    site's language. Read from the request as it arrives, so it can run before DRF does.
    """
    if request.method != "GET":
        return False
    meta = request.META
    if "HTTP_AUTHORIZATION" in meta or "format" in meta.get("QUERY_STRING", ""):
        return False
    accept = meta.get("HTTP_ACCEPT", "")
    if accept and (
        ";" in accept or "html" in accept or ("json" not in accept and "*/*" not in accept)
    ):
        return False
    return translation.get_language() == settings.LANGUAGE_CODE


def page_ttl() -> int:
    """CATALOG_CACHE_SECONDS, but a cached page must not outlive half of its signed links' life."""
    ttl = settings.CATALOG_CACHE_SECONDS
    qiniu = settings.QINIU
    if qiniu and qiniu.private:
        ttl = min(ttl, max(1, qiniu.link_ttl // 2))
    return ttl


def page_key(request: HttpRequest) -> str | None:
    """The cache key of an anonymous JSON page (also used by apps/course/document_views.py);
    None when the page must not be cached (the catalog version cannot be read)."""
    state = _current_state()
    if state is None:
        return None
    query = request.META.get("QUERY_STRING", "")
    if "&" in query or "%" in query or "+" in query:  # one plain parameter is its own key
        query = "&".join(sorted(request.GET.urlencode().split("&")))
    return f"catalog:{state}:{request.path}?{query}"


class CachedAnonymousReads:
    """View mixin: GET responses for anonymous JSON clients come from the catalog cache."""

    def _cache_key(self, request: Request) -> str | None:
        if settings.CATALOG_CACHE_SECONDS <= 0 or not anonymous_json_get(request._request):
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
            caches["catalog"].set(key, (response.content, response["Content-Type"]), page_ttl())
        return response
