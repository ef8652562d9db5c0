"""One error shape everywhere: {"code": <int != 100>, "msg": "...", "errors"?: {...}}.

The code of an error envelope is its HTTP status (400, 401, 403, 404, 405, 409, 413, 415, 429,
500, 503), so a client can branch on either. Unexpected exceptions are logged with their
traceback and answered with a 500 envelope, never Django's HTML page. A SQLite database still
locked by another writer after the busy timeout is not a bug but load: it answers 503 with
Retry-After, and the client tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import OperationalError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger("luffy.errors")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("资源冲突")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("请求体过大")
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("服务暂不可用,请稍后再试")
    default_code = "service_unavailable"


class DatabaseBusy(ServiceUnavailable):
    default_detail = gettext_lazy("系统繁忙,请稍后重试")
    default_code = "database_busy"
    wait = 1  # seconds, sent as Retry-After


def _database_busy(exc: Exception) -> bool:
    """SQLite's "database is locked": another writer held the lock for the whole busy timeout.
    Every other database error is a fault and stays a logged 500."""
    return isinstance(exc, OperationalError) and str(exc) == "database is locked"


def _first_message(detail: Any) -> str:
    """The first human-readable message in a (possibly nested) DRF error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            if message:
                return message if key == "non_field_errors" else f"{key}: {message}"
        return ""
    if isinstance(detail, (list, tuple)):
        return next((m for m in (_first_message(item) for item in detail) if m), "")
    return str(detail)


def _view_name(context: dict[str, Any]) -> str:
    view = context.get("view")
    return type(view).__name__ if view else "view"


# Exceptions DRF does not answer itself, as the API error each becomes (first match wins:
# RequestDataTooBig is a SuspiciousOperation too).
_AS_API_ERROR: list[tuple[type[BaseException], Callable[[], exceptions.APIException]]] = [
    (Http404, exceptions.NotFound),
    (PermissionDenied, exceptions.PermissionDenied),
    (RequestDataTooBig, PayloadTooLarge),
    # e.g. too many form fields
    (SuspiciousOperation, lambda: exceptions.ParseError(_("请求格式无效"))),
    # JSON nested deeper than the parser can follow
    (RecursionError, lambda: exceptions.ParseError(_("JSON 嵌套过深"))),
]


def _as_api_error(exc: Exception, context: dict[str, Any]) -> Exception:
    for kind, api_error in _AS_API_ERROR:
        if isinstance(exc, kind):
            return api_error()
    if isinstance(exc, exceptions.ParseError) and str(exc.detail).startswith("JSON parse error"):
        # DRF's message carries the json module's English reason: one sentence in our language.
        return exceptions.ParseError(_("The request body is not valid JSON"))
    if _database_busy(exc):
        logger.warning("Database busy in %s: answered 503", _view_name(context))
        return DatabaseBusy()
    return exc


def _envelope(exc: Exception, response: Response) -> dict[str, Any]:
    body: dict[str, Any] = {"code": response.status_code}
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body["msg"] = _first_message(errors) or _("参数错误")
        body["errors"] = errors
    else:
        # DRF and simplejwt wrap the message as {"detail": ...} (simplejwt adds code/messages).
        data = response.data
        detail = data["detail"] if isinstance(data, dict) and "detail" in data else data
        body["msg"] = _first_message(detail) or _("请求错误")
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["wait"] = exc.wait
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    exc = _as_api_error(exc, context)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", _view_name(context))
        return Response(
            {"code": 500, "msg": _("服务器内部错误")}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    response.data = _envelope(exc, response)
    return response


# Django-level handlers for requests that never reach a DRF view (unknown URLs, crashes in
# middleware), so clients of /api/ never receive an HTML page.
def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"code": 404, "msg": _("未找到")}, status=404)


@csrf_exempt  # it changes nothing: a POST to an unknown URL gets the 404, not the CSRF page
def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """The last route under /api/: an unknown API URL is a JSON 404 even with DEBUG on (Django
    only uses handler404 with DEBUG off). Being a route, it would stop CommonMiddleware from
    adding a missing slash, so it does that itself for URLs that exist with one."""
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return handler404(request)


def handler500(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"code": 500, "msg": _("服务器内部错误")}, status=500)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"code": 400, "msg": _("请求错误")}, status=400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"code": 403, "msg": _("没有权限")}, status=403)
