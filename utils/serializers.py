"""Serializer plumbing every app shares: the bare envelope, and validating input in one call."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class EnvelopeSerializer(serializers.Serializer):
    """The envelope alone: `code` and `msg`."""

    code = serializers.IntegerField(help_text="100 success, 101 'no' (e.g. not registered)")
    msg = serializers.CharField()


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The validated data of `data` (a body or query parameters); a 400 envelope otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
