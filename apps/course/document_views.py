"""Serve anonymous course detail and chapter-tree reads from their documents, before DRF runs.

An anonymous JSON GET of a visible course is answered from the per-worker page cache when the
course is hot, else with the stored bytes (apps/course/documents.py), with the headers DRF would
add; anything else (a token, another
format, another language, a bad or hidden id) goes through the DRF view exactly as before,
so errors, owners' links and the schema are unchanged.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from . import documents
from .cache import _page_ttl, page_key

CONTENT_TYPE = "application/json"  # what DRF's JSONRenderer answers
_COURSE_ID = re.compile(r"\A[0-9]{1,18}\Z")  # ChapterQuerySerializer's rule
_PLAIN_QUERY = re.compile(r"\Acourse=([0-9]{1,18})\Z")


def _plain_anonymous_json_get(request: HttpRequest) -> bool:
    """A request DRF would answer with the anonymous JSON body, with nothing else to decide."""
    if request.method != "GET" or settings.CATALOG_DOCUMENT_SECONDS <= 0:
        return False
    meta = request.META
    if "HTTP_AUTHORIZATION" in meta or "format" in meta.get("QUERY_STRING", ""):
        return False  # a token is checked (401 or an owner's links); ?format= negotiates
    accept = meta.get("HTTP_ACCEPT", "")
    # JSON, anything, or no preference; not the browsable API, no `indent` or other parameters.
    if accept and (
        ";" in accept or "html" in accept or ("json" not in accept and "*/*" not in accept)
    ):
        return False
    return translation.get_language() == settings.LANGUAGE_CODE


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
        probe = cls(**initkwargs)
        if hasattr(probe, "get") and not hasattr(probe, "head"):
            probe.head = probe.get  # as View.setup() does for each request
        headers = dict(probe.default_response_headers)  # Allow (and Vary)
        vary = [v.strip() for v in headers.pop("Vary", "").split(",") if v.strip()]
        kind = cls.document_kind

        def answer(body: bytes) -> HttpResponse:
            response = HttpResponse(body, content_type=CONTENT_TYPE)
            for key, value in headers.items():
                response[key] = value
            if vary:
                patch_vary_headers(response, vary)
            return response

        @functools.wraps(view)
        def serve(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _plain_anonymous_json_get(request):
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
                ttl = min(_page_ttl(), documents.seconds_left(document))
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
