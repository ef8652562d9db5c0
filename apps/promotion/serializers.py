"""What the flash-sale endpoints answer."""

from __future__ import annotations

from rest_framework import serializers

from utils.serializers import EnvelopeCodeField, MoneyField

from .models import FlashSale


class FlashSaleSerializer(serializers.ModelSerializer):
    course_name = serializers.CharField(source="course.name", read_only=True)
    price = MoneyField(source="course.price", read_only=True, help_text="the course's list price")
    sale_price = MoneyField(read_only=True)
    started = serializers.SerializerMethodField(help_text="false: coming, count down to starts_at")

    class Meta:
        model = FlashSale
        fields = [
            "id",
            "course",
            "course_name",
            "price",
            "sale_price",
            "seats",
            "seats_left",
            "starts_at",
            "ends_at",
            "started",
        ]

    def get_started(self, sale: FlashSale) -> bool:
        return sale.starts_at <= self.context["now"]


class FlashSaleListSerializer(serializers.Serializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
    server_time = serializers.DateTimeField(help_text="the server's clock, for the countdown")
    sales = FlashSaleSerializer(many=True)


class FlashBuySerializer(serializers.Serializer):
    code = EnvelopeCodeField()
    msg = serializers.CharField()
    pay_url = serializers.URLField()
    out_trade_no = serializers.CharField()
    total_amount = MoneyField()
    expires_at = serializers.DateTimeField(help_text="pay before this (FLASH_SALE_PAY_MINUTES)")
