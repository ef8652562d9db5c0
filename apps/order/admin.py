"""Staff views of orders, entitlements, notifies and refunds: money changes only through the
services (the refund form calls `services.refund_order`), never by editing a row by hand."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from rest_framework.exceptions import APIException

from . import services
from .models import CourseEntitlement, Order, OrderDetail, PaymentNotification, Refund


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


class RefundInline(admin.TabularInline):
    model = Refund
    fields = ["out_request_no", "kind", "amount", "status", "reason", "staff", "finished_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RefundForm(forms.Form):
    lines = forms.ModelMultipleChoiceField(
        queryset=OrderDetail.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="退款课程",
        help_text="全部勾选即整单退款;退款金额为所选课程的实付价之和,课程将从买家处收回。",
    )
    reason = forms.CharField(label="退款原因", max_length=256)

    def __init__(self, *args, order: Order, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        refunds = order.refunds.filter(
            revokes_courses=True, status__in=[Refund.Status.PENDING, Refund.Status.SUCCEEDED]
        )
        # A list without None: NOT IN over a subquery holding a NULL would exclude every line.
        refunded = [pk for pk in refunds.values_list("lines", flat=True) if pk is not None]
        lines = order.lines.exclude(pk__in=refunded).select_related("course")
        field = self.fields["lines"]
        field.queryset = lines
        field.label_from_instance = lambda line: f"{line.course.name} ¥{line.real_price}"
        field.initial = list(lines)


def _can_refund(request: HttpRequest) -> bool:
    return request.user.has_perm("order.add_refund")


@admin.action(description="退款(整单或部分课程)")
def refund_order_action(modeladmin, request: HttpRequest, queryset) -> HttpResponse | None:
    if queryset.count() != 1:
        modeladmin.message_user(request, "请一次选择一个订单退款", messages.WARNING)
        return None
    return HttpResponseRedirect(reverse("admin:order_order_refund", args=[queryset.get().pk]))


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
    readonly_fields = ["refund_link"]
    inlines = [OrderDetailInline, RefundInline]
    actions = [refund_order_action]

    @admin.display(description="退款")
    def refund_link(self, order: Order) -> str:
        if not order.is_paid:
            return "-"
        url = reverse("admin:order_order_refund", args=[order.pk])
        return format_html('<a class="button" href="{}">退款…</a>', url)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not _can_refund(request):
            actions.pop("refund_order_action", None)
        return actions

    def get_urls(self) -> list:
        refund = self.admin_site.admin_view(self.refund_view)
        return [
            path("<int:object_id>/refund/", refund, name="order_order_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The intermediate page: choose the lines and give a reason, then refund."""
        if not _can_refund(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=object_id)
        change_url = reverse("admin:order_order_change", args=[order.pk])
        form = RefundForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.refund_order(
                    order,
                    lines=form.cleaned_data["lines"],
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                )
            except APIException as exc:
                form.add_error(None, _message(exc))
            else:
                level, text = {
                    Refund.Status.SUCCEEDED: (messages.SUCCESS, "退款成功"),
                    Refund.Status.FAILED: (messages.ERROR, "支付宝拒绝了退款"),
                    Refund.Status.PENDING: (
                        messages.WARNING,
                        "暂未得到支付宝的答复,退款处理中(对账任务会用同一退款请求号完成它)",
                    ),
                }[refund.status]
                self.message_user(
                    request, f"{text}: {refund.out_request_no} ¥{refund.amount}", level
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"退款: {order.out_trade_no}",
            "opts": self.model._meta,
            "order": order,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/order/order/refund.html", context)


def _message(exc: APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(str(m) for messages_ in detail.values() for m in messages_)
    return str(detail)


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
    list_display = [
        "received_at",
        "out_trade_no",
        "trade_status",
        "verified",
        "outcome",
        "client_ip",
        "body_bytes",
        "detail",
    ]
    list_filter = ["outcome", "verified", "trade_status", "received_at"]
    search_fields = ["out_trade_no", "notify_id"]
    date_hierarchy = "received_at"


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "out_request_no",
        "order",
        "kind",
        "amount",
        "status",
        "reason",
        "staff",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["out_request_no", "order__out_trade_no", "trade_no"]
    list_select_related = ["order", "staff"]
