"""Order payloads: what the buyer sends to pay, and how orders look when listed."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from utils.public_urls import MediaURLField
from utils.serializers import EnvelopeCodeField, MoneyField, validated

from .models import Order, OrderDetail

MAX_COURSES_PER_ORDER = 50
SUBJECT_MAX_LENGTH = 150


class PayChannel(models.TextChoices):
    """Which Alipay cashier the pay URL opens: the desktop page, or the phone (wap) page."""

    PAGE = "page", _("电脑网站支付")
    WAP = "wap", _("手机网站支付")


class PayRequestSerializer(serializers.Serializer):
    # `courses` on the wire, `course_ids` for services.place_order(**validated_data).
    courses = serializers.ListField(
        source="course_ids",
        child=serializers.IntegerField(min_value=1, max_value=2**53),
        min_length=1,
        max_length=MAX_COURSES_PER_ORDER,
        allow_empty=False,
        error_messages={"empty": _("请选择要购买的课程"), "min_length": _("请选择要购买的课程")},
    )
    total_amount = MoneyField(
        help_text="The total the buyer saw; must equal the server's price to the cent",
    )
    subject = serializers.CharField(
        max_length=SUBJECT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    pay_type = serializers.ChoiceField(
        choices=Order.PayType.choices, required=False, default=Order.PayType.ALIPAY
    )
    pay_channel = serializers.ChoiceField(
        choices=PayChannel.choices,
        required=False,
        default=PayChannel.PAGE,
        help_text="page (default): Alipay's desktop cashier; wap: its phone cashier",
    )


# A body already in the canonical form the Vue app sends: `courses` a list of plain ints,
# `total_amount` a string with two decimals and no leading zero, `subject` absent or a string
# without surrounding blanks, NUL or surrogates, `pay_type` absent or Alipay's number,
# `pay_channel` absent or one of PayChannel's values.
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,7})\.[0-9]{2}", re.ASCII)
_SURROGATES = re.compile("[\ud800-\udfff]")
_MAX_COURSE_ID = 2**53


def validated_pay_request(data: Any) -> dict[str, Any]:
    """`validated(PayRequestSerializer, data)`, without building the serializer for a body in
    the canonical form (issue 12: building and running it cost ~0.25 ms, a tenth of a
    placement's own work). Anything else, valid or not, goes through the serializer, so every
    error and every accepted variant (numbers as strings, "99.9", padded subjects) is its
    answer; tests/order/test_pay_request.py checks that both agree on generated bodies."""
    fast = _canonical_pay_request(data)
    return fast if fast is not None else validated(PayRequestSerializer, data)


def _canonical_pay_request(data: Any) -> dict[str, Any] | None:
    if type(data) is not dict:
        return None
    courses, amount = data.get("courses"), data.get("total_amount")
    if type(courses) is not list or not 1 <= len(courses) <= MAX_COURSES_PER_ORDER:
        return None
    if any(type(c) is not int or not 1 <= c <= _MAX_COURSE_ID for c in courses):
        return None
    if type(amount) is not str or not _AMOUNT.fullmatch(amount):
        return None
    subject = data.get("subject", "")
    if (
        type(subject) is not str
        or len(subject) > SUBJECT_MAX_LENGTH
        or subject != subject.strip()
        or "\x00" in subject
        or _SURROGATES.search(subject)
    ):
        return None
    if "pay_type" in data and not (
        type(data["pay_type"]) is int and data["pay_type"] == Order.PayType.ALIPAY
    ):
        return None
    if "pay_channel" in data and not (
        type(data["pay_channel"]) is str and data["pay_channel"] in PayChannel.values
    ):
        return None
    return {
        "course_ids": list(courses),
        "total_amount": Decimal(amount),
        "subject": subject,
        "pay_type": data.get("pay_type", Order.PayType.ALIPAY),
        # As the serializer gives it: the string sent, or the default.
        "pay_channel": data.get("pay_channel", PayChannel.PAGE),
    }


class PayStatusQuerySerializer(serializers.Serializer):
    out_trade_no = serializers.CharField(
        max_length=64,
        error_messages={
            key: _("请提供有效的订单号") for key in ("required", "blank", "null", "max_length")
        },
    )


class PayResponseSerializer(serializers.Serializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
    pay_url = serializers.URLField(allow_null=True, help_text="null when nothing is left to pay")
    out_trade_no = serializers.CharField()


class OrderDetailSerializer(serializers.ModelSerializer):
    course_name = serializers.CharField(source="course.name", read_only=True)
    course_img = MediaURLField(source="course.course_img")
    price = MoneyField(label=_("课程原价"))
    real_price = MoneyField(label=_("课程实价"))

    class Meta:
        model = OrderDetail
        fields = ["course", "course_name", "course_img", "price", "real_price"]


class OrderSerializer(serializers.ModelSerializer):
    order_status_name = serializers.CharField(source="get_order_status_display", read_only=True)
    pay_type_name = serializers.CharField(source="get_pay_type_display", read_only=True)
    total_amount = MoneyField(read_only=True, label=_("订单总价"))
    order_courses = OrderDetailSerializer(source="lines", many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "out_trade_no",
            "subject",
            "total_amount",
            "order_status",
            "order_status_name",
            "pay_type",
            "pay_type_name",
            "trade_no",
            "pay_time",
            "expires_at",
            "created_time",
            "order_courses",
        ]
        read_only_fields = fields
