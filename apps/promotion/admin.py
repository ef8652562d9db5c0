"""Staff set up flash sales and see how each went: seats held unpaid, paid, given back."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.order.models import Order

from . import selectors
from .models import FlashSale, FlashSeat


@admin.register(FlashSale)
class FlashSaleAdmin(admin.ModelAdmin):
    list_display = [
        "course",
        "sale_price",
        "seats",
        "seats_left",
        "seats_unpaid",
        "seats_paid",
        "seats_released",
        "starts_at",
        "ends_at",
    ]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    readonly_fields = ["seats_left", "seats_unpaid", "seats_paid", "seats_released"]
    date_hierarchy = "starts_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[FlashSale]:
        return selectors.with_results(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: FlashSale | None = None):
        # Seats are counted down as they sell: the number is fixed once the sale exists.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "seats", "course"] if obj is not None else fields

    @admin.display(description=_("待支付"), ordering="n_unpaid")
    def seats_unpaid(self, sale: FlashSale) -> int:
        return getattr(sale, "n_unpaid", 0)

    @admin.display(description=_("已支付"), ordering="n_paid")
    def seats_paid(self, sale: FlashSale) -> int:
        return getattr(sale, "n_paid", 0)

    @admin.display(description=_("已释放(超时/取消)"), ordering="n_released")
    def seats_released(self, sale: FlashSale) -> int:
        return getattr(sale, "n_released", 0)


@admin.register(FlashSeat)
class FlashSeatAdmin(admin.ModelAdmin):
    list_display = ["sale", "buyer", "order", "order_status", "holding", "taken_at", "released_at"]
    list_filter = ["sale"]
    list_select_related = ["sale__course", "buyer", "order"]
    search_fields = ["order__out_trade_no"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("订单状态"))
    def order_status(self, seat: FlashSeat) -> str:
        if seat.order is None:
            return "-"
        return Order.Status(seat.order.order_status).label
