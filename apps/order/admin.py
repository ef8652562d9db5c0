"""Read-only staff views of orders, entitlements and notifies: money changes only through
the services, never by hand in a form."""

from __future__ import annotations

from django.contrib import admin

from .models import CourseEntitlement, Order, OrderDetail, PaymentNotification


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OrderDetailInline(admin.TabularInline):
    model = OrderDetail
    fields = ["course", "price", "real_price"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "out_trade_no",
        "user",
        "subject",
        "total_amount",
        "order_status",
        "pay_type",
        "trade_no",
        "pay_time",
        "created_time",
    ]
    list_filter = ["order_status", "pay_type", "created_time", "pay_time"]
    search_fields = ["out_trade_no", "trade_no", "user__username", "user__mobile"]
    date_hierarchy = "created_time"
    list_select_related = ["user"]
    inlines = [OrderDetailInline]


@admin.register(OrderDetail)
class OrderDetailAdmin(ReadOnlyAdmin):
    list_display = ["order", "course", "price", "real_price"]
    list_filter = ["order__order_status", "order__created_time"]
    search_fields = ["order__out_trade_no", "course__name"]
    list_select_related = ["order", "course"]


@admin.register(CourseEntitlement)
class CourseEntitlementAdmin(ReadOnlyAdmin):
    list_display = ["user", "course", "order", "created_time"]
    list_filter = ["created_time"]
    search_fields = ["user__username", "user__mobile", "course__name", "order__out_trade_no"]
    list_select_related = ["user", "course", "order"]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "out_trade_no", "trade_status", "verified", "outcome", "detail"]
    list_filter = ["outcome", "verified", "trade_status", "received_at"]
    search_fields = ["out_trade_no", "notify_id"]
    date_hierarchy = "received_at"
