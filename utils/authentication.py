"""JWT authentication as the Vue app sends it, and its description in the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.authentication import JWTAuthentication


class LuffyJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token check; the header prefix may be `Bearer` or `jwt`
    (SIMPLE_JWT["AUTH_HEADER_TYPES"])."""


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
