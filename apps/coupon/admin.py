"""Staff define coupons here and see their usage (claimed, used, discount given); the coupons
shoppers hold."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Coupon, UserCoupon

USED = Q(holdings__status=UserCoupon.Status.USED)


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "kind",
        "scope",
        "obtain",
        "total_stock",
        "issued",
        "used_count",
        "discount_given",
        "claim_ends_at",
        "is_active",
    ]
    list_display_links = ["id", "name"]
    list_filter = ["kind", "scope", "obtain", "is_active"]
    search_fields = ["name", "code"]
    filter_horizontal = ["categories", "courses"]
    readonly_fields = ["issued", "created_at"]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        (_("优惠"), {"fields": ["kind", "amount", "min_spend", "percent_off", "max_discount"]}),
        (_("适用范围"), {"fields": ["scope", "categories", "courses"]}),
        (_("有效期"), {"fields": ["validity", "valid_from", "valid_until", "valid_days"]}),
        (
            _("发放"),
            {
                "fields": [
                    "obtain",
                    "code",
                    "claim_starts_at",
                    "claim_ends_at",
                    "total_stock",
                    "issued",
                    "per_user_limit",
                    "created_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                used=Count("holdings", filter=USED),
                discount_given=Sum("holdings__discount", filter=USED),
            )
        )

    @admin.display(description=_("已使用"), ordering="used")
    def used_count(self, coupon: Coupon) -> int:
        return coupon.used

    @admin.display(description=_("已优惠金额"), ordering="discount_given")
    def discount_given(self, coupon: Coupon) -> Decimal:
        return coupon.discount_given or Decimal("0.00")


@admin.register(UserCoupon)
class UserCouponAdmin(admin.ModelAdmin):
    list_display = ["id", "coupon", "user", "status", "valid_until", "order", "discount", "used_at"]
    list_filter = ["status", "coupon"]
    search_fields = ["user__username", "user__mobile", "coupon__name"]
    raw_id_fields = ["user", "order"]
    list_select_related = ["coupon", "user", "order"]
    readonly_fields = ["obtained_at", "used_at", "discount"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a coupon is given through the services: they take the stock
