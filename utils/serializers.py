"""Serializer plumbing every app shares: the envelope, amounts of money, validating input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .response import NOT_YET, SUCCESS

CODE_HELP = f"{SUCCESS} success; {NOT_YET} a business 'no' that is not an error (e.g. not paid yet)"


@extend_schema_field({"type": "integer", "example": SUCCESS})
class EnvelopeCodeField(serializers.IntegerField):
    """`code` of a successful answer (errors carry their HTTP status instead: utils.schema)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", CODE_HELP)
        super().__init__(**kwargs)


# Amounts are strings with two decimals ("199.00"), never negative: in the schema a pattern
# without a sign, so generated examples are prices a shop could show.
@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^\d{0,8}(?:\.\d{0,2})?$",
        "example": "199.00",
    }
)
class MoneyField(serializers.DecimalField):
    """A non-negative amount in yuan with two decimals, as a string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(**kwargs)


class EnvelopeSerializer(serializers.Serializer):
    """The envelope alone: `code` and `msg`."""

    code = EnvelopeCodeField()
    msg = serializers.CharField()


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The validated data of `data` (a body or query parameters); a 400 envelope otherwise."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
