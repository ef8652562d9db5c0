"""Serve anonymous course detail and chapter-tree reads from their documents, before DRF runs.

An anonymous JSON GET of a visible course is answered from the per-worker page cache when the
course is hot, else with the stored bytes (apps/course/documents.py), with the headers DRF would
add; anything else (a token, another
format, another language, a bad or hidden id) goes through the DRF view exactly as before,
so errors, owners' links and the schema are unchanged.

A search page the index answers alone (apps/course/selectors.py `IndexedSearch`) is served the
same way (`SearchFromCards`): the count, the page's ids, then one read of their stored cards;
the envelope (count, next, previous) is DRF's paginator's, rendered by DRF's
renderer, so the bytes are the serializer's (tests/course/test_search_cards.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.paginator import InvalidPage
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from . import documents
from .cache import anonymous_json_get, page_key, page_ttl

CONTENT_TYPE = "application/json"  # what DRF's JSONRenderer answers
_COURSE_ID = re.compile(r"\A[0-9]{1,18}\Z")  # ChapterQuerySerializer's rule
_PLAIN_QUERY = re.compile(r"\Acourse=([0-9]{1,18})\Z")


def _answerer(cls: type, initkwargs: dict[str, Any]) -> Callable[[bytes], HttpResponse]:
    """A function making the response DRF's view `cls` would send with `body` (its headers)."""
    probe = cls(**initkwargs)
    if hasattr(probe, "get") and not hasattr(probe, "head"):
        probe.head = probe.get  # as View.setup() does for each request
    headers = dict(probe.default_response_headers)  # Allow (and Vary)
    vary = [v.strip() for v in headers.pop("Vary", "").split(",") if v.strip()]

    def answer(body: bytes) -> HttpResponse:
        response = HttpResponse(body, content_type=CONTENT_TYPE)
        for key, value in headers.items():
            response[key] = value
        if vary:
            patch_vary_headers(response, vary)
        return response

    return answer


class ServedFromDocuments:
    """View mixin: anonymous JSON GETs are answered from the course's document of `document_kind`.

    Subclasses say where the course id is (`document_course_id`).
    """

    document_kind: str = ""

    @classmethod
    def document_course_id(cls, request: HttpRequest, kwargs: dict[str, Any]) -> int | None:
        raise NotImplementedError

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponse]:
        view = super().as_view(**initkwargs)  # type: ignore[misc]
        answer = _answerer(cls, initkwargs)
        kind = cls.document_kind

        @functools.wraps(view)
        def serve(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if settings.CATALOG_DOCUMENT_SECONDS <= 0 or not anonymous_json_get(request):
                return view(request, *args, **kwargs)
            course_id = cls.document_course_id(request, kwargs)
            if course_id is None:
                return view(request, *args, **kwargs)  # the 400 or 404 as always
            # Hot courses: the per-worker page cache first (same keys as CachedAnonymousReads).
            key = page_key(request) if settings.CATALOG_CACHE_SECONDS > 0 else None
            hit = caches["catalog"].get(key) if key else None
            if hit is not None:
                return answer(hit[0])
            document = documents.read(course_id, kind)
            if document is None:
                return view(request, *args, **kwargs)  # not visible: the usual 404
            if key:  # no longer than the document itself is valid (signed links, discounts)
                ttl = min(page_ttl(), documents.seconds_left(document))
                caches["catalog"].set(key, (document.body, CONTENT_TYPE), ttl)
            return answer(document.body)

        return serve


class DetailFromDocuments(ServedFromDocuments):
    document_kind = documents.DETAIL

    @classmethod
    def document_course_id(cls, request: HttpRequest, kwargs: dict[str, Any]) -> int | None:
        return kwargs.get("pk")


class ChaptersFromDocuments(ServedFromDocuments):
    document_kind = documents.CHAPTERS

    @classmethod
    def document_course_id(cls, request: HttpRequest, kwargs: dict[str, Any]) -> int | None:
        plain = _PLAIN_QUERY.match(request.META.get("QUERY_STRING", ""))
        value = plain.group(1) if plain else request.GET.get("course")  # parsed when needed
        return int(value) if value is not None and _COURSE_ID.match(value) else None


# Query parameters a card page may carry; any other one (a filter, `format`, anything unknown)
# takes the DRF view, which answers the same page or the same error.
_CARD_PARAMS = frozenset({"search", "ordering", "page", "page_size", "size"})


class SearchFromCards:
    """View mixin for the search: anonymous JSON GETs that the index answers alone are served
    from the page's stored cards (documents.read_cards), before DRF runs.

    The view supplies `indexed_search_for(request)`: its IndexedSearch for the request, or
    None when the index does not answer alone (filters, other orderings, words it does not
    decide), raising ValidationError for bad words; both of those take the DRF view.
    """

    @staticmethod
    def indexed_search_for(request: HttpRequest) -> Any:
        raise NotImplementedError

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., HttpResponse]:
        view = super().as_view(**initkwargs)  # type: ignore[misc]
        answer = _answerer(cls, initkwargs)

        @functools.wraps(view)
        def serve(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if settings.CATALOG_DOCUMENT_SECONDS <= 0 or not anonymous_json_get(request):
                return view(request, *args, **kwargs)
            params = request.GET
            if not _CARD_PARAMS.issuperset(params):
                return view(request, *args, **kwargs)
            key = page_key(request) if settings.CATALOG_CACHE_SECONDS > 0 else None
            hit = caches["catalog"].get(key) if key else None
            if hit is not None:
                return answer(hit[0])
            try:
                search = cls.indexed_search_for(request)
            except ValidationError:
                return view(request, *args, **kwargs)  # the usual 400
            if search is None:
                return view(request, *args, **kwargs)
            page = _card_page(request, search)
            if page is None:
                return view(request, *args, **kwargs)  # a page past the end: the usual 404
            body, seconds = page
            if key:  # no longer than its cards are valid (signed links)
                caches["catalog"].set(key, (body, CONTENT_TYPE), min(page_ttl(), seconds))
            return answer(body)

        return serve


def _card_page(request: HttpRequest, search: Any) -> tuple[bytes, int] | None:
    """The search page's bytes and how many seconds they stay valid, or None for a page
    number DRF's paginator refuses (the view answers that 404)."""
    from utils.pagination import PageNumberPagination

    paginator = PageNumberPagination()
    drf_request = Request(request)
    page_size = paginator.get_page_size(drf_request)
    pages = paginator.django_paginator_class(search.ids(), page_size)
    try:
        page = pages.page(paginator.get_page_number(drf_request, pages))
    except InvalidPage:
        return None
    paginator.page, paginator.request = page, drf_request
    ids = list(page)
    stored = documents.read_cards(ids)
    # A course hidden after the index was read is left out, as IndexedSearch leaves it out.
    found = [stored[pk] for pk in ids if pk in stored]
    envelope = _render(paginator.get_paginated_response([]).data)
    if not envelope.endswith(_NO_RESULTS):
        return None  # not DRF's envelope: let the view answer
    cards = b",".join(card.body for card in found)
    body = envelope[: -len(_NO_RESULTS)] + b'"results":[' + cards + b"]}"
    seconds = min((documents.seconds_left(d) for d in found), default=page_ttl())
    return body, seconds


_NO_RESULTS = b'"results":[]}'


def _render(data: Any) -> bytes:
    from rest_framework.renderers import JSONRenderer

    return JSONRenderer().render(data)
