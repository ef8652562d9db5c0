"""JWT authentication as the Vue app sends it, and its description in the OpenAPI schema."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import get_md5_hash_password

from . import sql_rows

# The claim naming a login's session: every token of one login carries it, through every
# refresh (apps.user.services issue_tokens). Tokens without it belong to no session.
SESSION_CLAIM = "sid"


def session_ended(token: Token, user: Any) -> bool:
    """Whether the token's session was logged out (apps.user.services end_session)."""
    sid = token.get(SESSION_CLAIM)
    return isinstance(sid, str) and sid in (getattr(user, "ended_sessions", None) or {})


@cache
def _user_by_pk_sql(vendor: str) -> str:
    user = get_user_model()
    quote = connection.ops.quote_name
    table, pk = quote(user._meta.db_table), quote(user._meta.pk.column)
    return f"SELECT {sql_rows.columns(user)} FROM {table} WHERE {pk} = %s"  # noqa: S608


def user_by_pk(pk: Any) -> Any:
    """The user with this primary key, read whole as `objects.get(pk=...)` reads it; None when
    there is none. `pk` is prepared by the field, as the ORM does (a ValueError for junk)."""
    user = get_user_model()
    value = user._meta.pk.get_prep_value(pk)
    found = sql_rows.fetch(user, _user_by_pk_sql(connection.vendor), [value])
    return found[0] if found else None


class LuffyJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token check; the header prefix may be `Bearer` or `jwt`
    (SIMPLE_JWT["AUTH_HEADER_TYPES"])."""

    def get_user(self, validated_token: Token) -> Any:
        """simplejwt's get_user with the user read by one prepared SQL statement (issue 12: the
        ORM's `objects.get()` cost more than the token's signature check on every request).

        Only the accepting path is taken here, with simplejwt's own conditions (active, the
        revocation claim against the current password's digest); whenever it would refuse, or
        the settings name another id field, simplejwt's get_user runs instead and raises its
        own error, with its message and code. Either way a token of a logged-out session is
        refused: the ended sessions are on the row read anyway (no query more).
        """
        user = self._get_user(validated_token)
        if session_ended(validated_token, user):
            raise AuthenticationFailed(_("登录已失效,请重新登录"), code="token_not_valid")
        return user

    def _get_user(self, validated_token: Token) -> Any:
        claim = api_settings.USER_ID_CLAIM
        if get_user_model()._meta.pk.name != api_settings.USER_ID_FIELD:
            return super().get_user(validated_token)
        try:
            user = user_by_pk(validated_token[claim])
        except (KeyError, TypeError, ValueError):
            user = None
        if (
            user is None
            or (api_settings.CHECK_USER_IS_ACTIVE and not user.is_active)
            or (
                api_settings.CHECK_REVOKE_TOKEN
                and validated_token.get(api_settings.REVOKE_TOKEN_CLAIM)
                != get_md5_hash_password(user.password)
            )
        ):
            return super().get_user(validated_token)
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
