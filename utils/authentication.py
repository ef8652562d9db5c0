"""JWT authentication as the Vue app sends it, and its description in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import Token

# The claim naming a login's session: every token of one login carries it, through every
# refresh (apps.user.services issue_tokens). Tokens without it belong to no session.
SESSION_CLAIM = "sid"


def session_ended(token: Token, user: Any) -> bool:
    """Whether the token's session was logged out (apps.user.services end_session)."""
    sid = token.get(SESSION_CLAIM)
    return isinstance(sid, str) and sid in (getattr(user, "ended_sessions", None) or {})


class LuffyJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token check; the header prefix may be `Bearer` or `jwt`
    (SIMPLE_JWT["AUTH_HEADER_TYPES"])."""

    def get_user(self, validated_token: Token) -> Any:
        """simplejwt's get_user (one read of the user, its own refusals and messages), and a
        token of a logged-out session refused: the ended sessions are on the row it reads."""
        user = super().get_user(validated_token)
        if session_ended(validated_token, user):
            raise AuthenticationFailed(_("登录已失效,请重新登录"), code="token_not_valid")
        return user


class LuffyJWTScheme(OpenApiAuthenticationExtension):
    target_class = LuffyJWTAuthentication
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from a login endpoint. "
            "`Authorization: Bearer <token>` or `Authorization: jwt <token>`.",
        }
