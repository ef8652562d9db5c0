"""Coupon payloads: coupons on offer, the shopper's coupons, redeeming a code, the checkout
preview."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.order.serializers import MAX_COURSES_PER_ORDER
from utils.serializers import EnvelopeCodeField, MoneyField

from .models import Coupon, UserCoupon
from .selectors import WalletStatus

ID = {"min_value": 1, "max_value": 2**53}


class CouponSerializer(serializers.ModelSerializer):
    kind_name = serializers.CharField(source="get_kind_display", read_only=True)
    amount = MoneyField(allow_null=True)
    min_spend = MoneyField()
    max_discount = MoneyField(allow_null=True)
    stock_left = serializers.IntegerField(read_only=True)
    categories = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    courses = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Coupon
        fields = [
            "id",
            "name",
            "kind",
            "kind_name",
            "amount",
            "min_spend",
            "percent_off",
            "max_discount",
            "scope",
            "categories",
            "courses",
            "validity",
            "valid_from",
            "valid_until",
            "valid_days",
            "claim_ends_at",
            "per_user_limit",
            "stock_left",
        ]
        read_only_fields = fields


class UserCouponSerializer(serializers.ModelSerializer):
    coupon = CouponSerializer(read_only=True)
    out_trade_no = serializers.CharField(
        source="order.out_trade_no", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = UserCoupon
        fields = [
            "id",
            "coupon",
            "status",
            "valid_from",
            "valid_until",
            "out_trade_no",
            "obtained_at",
            "used_at",
        ]
        read_only_fields = fields


class UserCouponResponseSerializer(serializers.Serializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
    coupon = UserCouponSerializer()


class CourseQuerySerializer(serializers.Serializer):
    course = serializers.IntegerField(required=False, **ID)


class WalletQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=WalletStatus.CHOICES, required=False, default=WalletStatus.USABLE
    )


class RedeemRequestSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, error_messages={"blank": _("请输入兑换码")})


class PreviewRequestSerializer(serializers.Serializer):
    # `courses` on the wire, `course_ids` for the selector (as in order/pay/).
    courses = serializers.ListField(
        source="course_ids",
        child=serializers.IntegerField(**ID),
        min_length=1,
        max_length=MAX_COURSES_PER_ORDER,
        error_messages={"empty": _("请选择要购买的课程"), "min_length": _("请选择要购买的课程")},
    )
    coupon = serializers.IntegerField(
        source="user_coupon_id",
        required=False,
        allow_null=True,
        help_text="The id of one of the buyer's coupons (GET user/coupons/)",
        **ID,
    )

    def validate_courses(self, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("课程不能重复"))
        return value


class PreviewLineSerializer(serializers.Serializer):
    course = serializers.IntegerField()
    course_name = serializers.CharField()
    price = MoneyField(help_text="List price")
    real_price = MoneyField(help_text="Price now (a running discount included)")
    discount = MoneyField(help_text="This line's share of the coupon's discount")
    pay_amount = MoneyField(help_text="real_price - discount")


class PreviewOfferSerializer(serializers.Serializer):
    coupon = UserCouponSerializer(source="user_coupon")
    discount = MoneyField()
    best = serializers.BooleanField()


class PreviewSerializer(serializers.Serializer):
    lines = PreviewLineSerializer(many=True)
    subtotal = MoneyField(help_text="Sum of real_price")
    coupons = PreviewOfferSerializer(many=True, help_text="The buyer's coupons that apply")
    coupon = serializers.IntegerField(allow_null=True, help_text="The coupon applied, if any")
    discount = MoneyField()
    total_amount = MoneyField(help_text="What to pay: send it as total_amount to order/pay/")


class PreviewResponseSerializer(PreviewSerializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
