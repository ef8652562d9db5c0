"""The response envelope the Vue app reads: {"code": 100, "msg": "...", ...payload}."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.response import Response

SUCCESS = 100
# Business "no" that is not an error (e.g. mobile not registered, order not paid yet).
NOT_YET = 101


class APIResponse(Response):
    """A JSON response in the envelope; extra keyword arguments become top-level keys."""

    def __init__(
        self,
        code: int = SUCCESS,
        msg: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **payload: Any,
    ) -> None:
        super().__init__(
            data={"code": code, "msg": _("成功") if msg is None else msg, **payload},
            status=status,
            headers=headers,
        )
