"""Order payloads: what the buyer sends to pay, and how orders look when listed."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from utils.public_urls import MediaURLField
from utils.serializers import EnvelopeCodeField, MoneyField

from .models import Order, OrderDetail
from .services import PayChannel

MAX_COURSES_PER_ORDER = 50
SUBJECT_MAX_LENGTH = 150


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
    # The tutorial's client (and older storefronts) send `subject`: still accepted, so they keep
    # working, but ignored: the title Alipay and staff see is the server's (the course names),
    # never text a buyer chose (issue 23: a formula in the orders export).
    subject = serializers.CharField(
        max_length=SUBJECT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Ignored (kept for older clients): the order's title is its course names",
    )
    pay_type = serializers.ChoiceField(
        choices=Order.PayType.choices, required=False, default=Order.PayType.ALIPAY
    )
    coupon = serializers.IntegerField(
        source="user_coupon_id",
        required=False,
        allow_null=True,
        min_value=1,
        max_value=2**53,
        help_text="One of the buyer's coupons (order/preview/); total_amount is then the "
        "discounted amount",
    )
    pay_channel = serializers.ChoiceField(
        choices=PayChannel.choices,
        required=False,
        default=PayChannel.PAGE,
        help_text="page (default): Alipay's desktop cashier; wap: its phone cashier",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("subject", None)
        return attrs


class PayChannelSerializer(serializers.Serializer):
    """Which Alipay cashier to open, for an order already placed (order/<no>/pay/) or placed by
    a promotion (a flash-sale seat)."""

    pay_channel = serializers.ChoiceField(
        choices=PayChannel.choices,
        required=False,
        default=PayChannel.PAGE,
        help_text="page (default): Alipay's desktop cashier; wap: its phone cashier",
    )


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
    out_trade_no = serializers.CharField(
        allow_null=True, help_text="null for free courses: they are given without an order"
    )


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
