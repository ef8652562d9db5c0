"""A request id for every request: taken from X-Request-ID when sane, echoed in the response,
and put on every log line written while the request is served (utils.logging.RequestIdFilter).

nginx (deploy/nginx/luffy.conf) passes its own `$request_id` on, so one id follows a request
from the proxy's access log through the app's lines to the client.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING

from django.core.signals import request_finished

if TYPE_CHECKING:  # gunicorn.conf.py imports this module (through utils.logging) before Django
    from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# Anything else (too long, spaces, quotes, control characters) could forge or break log lines;
# such a header is replaced by an id of our own.
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{8,128}")

current_request_id: ContextVar[str] = ContextVar("luffy_request_id", default="-")


def request_id_from(header: str | None) -> str:
    """The client's or proxy's id when it is sane, else a fresh one (32 hex digits)."""
    if header and _SANE.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost middleware: every answer, even a refused Host or a 500, carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        # Not reset on the way out: Django logs 4xx/5xx answers after the middleware returns.
        # The server's request_finished (response closed) ends the request's id instead.
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget_request_id(**kwargs: object) -> None:
    current_request_id.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="luffy_forget_request_id")
