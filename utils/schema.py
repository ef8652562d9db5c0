"""OpenAPI: the error envelope, and which operation can answer with which error.

`document_error_responses` (a drf-spectacular postprocessing hook, see SPECTACULAR_SETTINGS) adds
the `Error` component — the shape utils.exceptions gives every error — and documents on each
operation the error statuses that follow from how its view is built:

- 400 everywhere: every DRF request parses its query string (too many fields is a 400), and
  parameters and bodies are validated;
- 401 where the view has a WWW-Authenticate challenge (an authenticator, so a bad or expired
  token is refused even on public endpoints; or the token refresh);
- 403 where a permission class other than AllowAny guards the view;
- 404 where the URL has a path parameter (the object may not exist) or the list is paginated
  (a page past the end);
- 413 and 415 where there is a request body (over DATA_UPLOAD_MAX_MEMORY_SIZE; a content type
  no parser reads);
- 429 where the view is throttled (the envelope then carries `wait`).

Statuses that depend on the business (409 "already owned", 503 "Alipay not configured", 404 of a
lookup by query parameter) are declared by the view itself with `error_response()`. Responses a
view declares are never replaced, and an operation that documents its own non-JSON error
responses (Alipay's notify answers `failure` as text) speaks its own error format and is left
alone. 405 is not attached to any operation: it is the answer to a method the path does not
define, which is not an operation.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.permissions import AllowAny

ERROR_COMPONENT = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error: `code` repeats the HTTP status.",
    "properties": {
        "code": {"type": "integer", "description": "The HTTP status of the response"},
        "msg": {"type": "string", "description": "A message to show to people"},
        "errors": {
            "type": "object",
            "additionalProperties": {},
            "description": "Validation errors by field (400 only)",
        },
        "wait": {
            "type": "number",
            "description": "Seconds until the next attempt is allowed (429 only)",
        },
    },
    "required": ["code", "msg"],
    "additionalProperties": False,
}

DESCRIPTIONS = {
    400: "Invalid request: a parameter or the body failed validation or could not be parsed",
    401: "Missing, invalid or expired token",
    403: "Not allowed",
    404: "Not found",
    413: "Request body larger than DATA_UPLOAD_MAX_MEMORY_SIZE",
    415: "Unsupported Content-Type",
    429: "Too many requests; `wait` says how many seconds to wait",
}

JSON = "application/json"


def documented_get(summary: str, description: str, *examples: OpenApiExample) -> Any:
    """Class decorator for a generic read view (List/RetrieveAPIView): its GET's docs."""
    return extend_schema_view(
        get=extend_schema(summary=summary, description=description, examples=list(examples))
    )


def error_response(description: str) -> OpenApiResponse:
    """An error status of the view's own, in the envelope: `{409: error_response("...")}`."""
    return OpenApiResponse(ERROR_REF, description=description)


def _views_by_operation(generator: Any, request: Any) -> dict[tuple[str, str], Any]:
    """(path, method) -> a view instance with a mock request, as the generator builds them."""
    views = {}
    for path, _regex, method, callback in generator.endpoints or []:
        view = generator.create_view(callback, method)
        path = generator.coerce_path(path, method, view)
        view.request = spectacular_settings.GET_MOCK_REQUEST(method, path, view, request)
        views[path, method.lower()] = view
    return views


def _possible_errors(operation: dict[str, Any], view: Any) -> set[int]:
    parameters = operation.get("parameters", [])
    statuses = {400}
    if any(
        p.get("in") == "path" or (p.get("in"), p.get("name")) == ("query", "page")
        for p in parameters
    ):
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {413, 415}
    if view is not None:
        statuses |= _errors_of_view(view)
    return statuses


def _errors_of_view(view: Any) -> set[int]:
    """401, 403 and 429 where the view authenticates, restricts or throttles."""
    statuses = set()
    if view.get_authenticate_header(view.request):
        statuses.add(401)
    if any(not isinstance(p, AllowAny) for p in view.get_permissions()):
        statuses.add(403)
    if view.get_throttles():
        statuses.add(429)
    return statuses


def _speaks_its_own_errors(responses: dict[str, Any]) -> bool:
    return any(
        code[0] in "45" and JSON not in response.get("content", {JSON: None})
        for code, response in responses.items()
    )


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any = None, **kwargs: Any
) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    views = _views_by_operation(generator, request)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if _speaks_its_own_errors(responses):
                continue
            for status in sorted(_possible_errors(operation, views.get((path, method)))):
                responses.setdefault(
                    str(status),
                    {"description": DESCRIPTIONS[status], "content": {JSON: {"schema": ERROR_REF}}},
                )
    return result
