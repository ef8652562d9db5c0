"""The local cashier's trades in the admin, read-only: handy to see what the demo did."""

from django.contrib import admin

from .models import CashierRefund, CashierTrade


class RefundInline(admin.TabularInline):
    model = CashierRefund
    extra = 0
    can_delete = False
    readonly_fields = ["out_request_no", "refund_amount", "refunded_at"]


@admin.register(CashierTrade)
class CashierTradeAdmin(admin.ModelAdmin):
    list_display = ["out_trade_no", "subject", "total_amount", "status", "paid_at", "created_at"]
    list_filter = ["status"]
    search_fields = ["out_trade_no", "trade_no"]
    inlines = [RefundInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
