"""Reports sent with `navigator.sendBeacon` when a page is hidden: a POST that can carry a body
but no header of ours, so the access token travels in the JSON body.

CSRF cannot ride on this: no cookie authenticates anything here, and a forged cross-site post
does not know the learner's token. The body arrives as `text/plain` when the page sends a string
(the only type a beacon sends without a CORS preflight), so that type is read as JSON too.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.parsers import JSONParser
from rest_framework.request import Request

from .authentication import LuffyJWTAuthentication

TOKEN_FIELD = "token"  # noqa: S105 - the name of a field, not a secret


class BeaconBodyParser(JSONParser):
    """A beacon's `text/plain` body, which holds JSON."""

    media_type = "text/plain"


class BeaconTokenAuthentication(LuffyJWTAuthentication):
    """The access token in a POST body's `token` (the header wins when both are sent)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if request.method != "POST":
            return None
        data = request.data
        raw = data.get(TOKEN_FIELD) if isinstance(data, dict) else None
        if not isinstance(raw, str) or not raw:
            return None
        token = self.get_validated_token(raw.encode())
        return self.get_user(token), token


class BeaconTokenScheme(OpenApiAuthenticationExtension):
    """OpenAPI has no security scheme for a token in the body: the operation's request body
    documents `token`, and no scheme is added here."""

    target_class = BeaconTokenAuthentication
    name: list[str] = []

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []
