"""Staff views of orders, entitlements, notifies and refunds: money changes only through the
services (the refund form calls `services.refund_order`), never by editing a row by hand."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework.exceptions import APIException

from apps.dashboard.filters import DateRangeFilter

from . import export, services
from .models import (
    PAID_STATES,
    CourseEntitlement,
    ManualGrant,
    Order,
    OrderDetail,
    PaymentNotification,
    Refund,
)
from .notify_text import notify_detail_text


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
        label=_("退款课程"),
        help_text=_("全部勾选即整单退款;退款金额为所选课程的实付价之和,课程将从买家处收回。"),
    )
    reason = forms.CharField(label=_("退款原因"), max_length=256)

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


@admin.action(description=_("退款(整单或部分课程)"))
def refund_order_action(modeladmin, request: HttpRequest, queryset) -> HttpResponse | None:
    if queryset.count() != 1:
        modeladmin.message_user(request, _("请一次选择一个订单退款"), messages.WARNING)
        return None
    return HttpResponseRedirect(reverse("admin:order_order_refund", args=[queryset.get().pk]))


@admin.action(description=_("取消所选的未支付订单"), permissions=["cancel"])
def cancel_unpaid_action(modeladmin, request: HttpRequest, queryset) -> None:
    cancelled, refused = 0, []
    for order in queryset.filter(order_status=Order.Status.UNPAID):
        try:
            services.cancel_unpaid_order(order, staff=request.user)
        except APIException as exc:
            refused.append(f"{order.out_trade_no}: {_message(exc)}")
        else:
            cancelled += 1
    skipped = queryset.exclude(order_status=Order.Status.UNPAID).count()
    if cancelled:
        modeladmin.message_user(
            request,
            ngettext("已取消 %(n)d 个订单", "已取消 %(n)d 个订单", cancelled) % {"n": cancelled},
        )
    if skipped:
        modeladmin.message_user(
            request,
            ngettext(
                "%(n)d 个订单不是未支付状态,未取消", "%(n)d 个订单不是未支付状态,未取消", skipped
            )
            % {"n": skipped},
            messages.WARNING,
        )
    for text in refused:
        modeladmin.message_user(request, text, messages.ERROR)


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
    list_filter = [
        "order_status",
        "pay_type",
        ("created_time", DateRangeFilter),
        ("pay_time", DateRangeFilter),
    ]
    search_fields = ["out_trade_no", "trade_no", "user__username", "user__mobile"]
    date_hierarchy = "created_time"
    list_select_related = ["user"]
    readonly_fields = ["refund_link"]
    inlines = [OrderDetailInline, RefundInline]
    actions = [refund_order_action, cancel_unpaid_action]
    change_list_template = "admin/order/order/change_list.html"

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """The list with the totals of every order the filters select (not only this page)."""
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl")
        if cl is not None:
            totals = cl.queryset.order_by().aggregate(amount=Sum("total_amount"), count=Count("id"))
            paid = (
                cl.queryset.order_by()
                .filter(order_status__in=list(PAID_STATES))
                .aggregate(amount=Sum("total_amount"), count=Count("id"))
            )
            response.context_data["totals"] = {"all": totals, "paid": paid}
            query = request.GET.urlencode()
            response.context_data["export_query"] = f"?{query}" if query else ""
        return response

    @admin.display(description=_("退款"))
    def refund_link(self, order: Order) -> str:
        if not order.is_paid:
            return "-"
        url = reverse("admin:order_order_refund", args=[order.pk])
        return format_html(_('<a class="button" href="{}">退款…</a>'), url)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        # The rows are read-only here; cancelling is a state change staff may be given apart.
        return request.user.has_perm("order.change_order")

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        if not _can_refund(request):
            actions.pop("refund_order_action", None)
        return actions

    def get_urls(self) -> list:
        refund = self.admin_site.admin_view(self.refund_view)
        export_csv = self.admin_site.admin_view(self.export_view)
        return [
            path("<int:object_id>/refund/", refund, name="order_order_refund"),
            path("export.csv", export_csv, {"fmt": "csv"}, name="order_order_export_csv"),
            path("export.xlsx", export_csv, {"fmt": "xlsx"}, name="order_order_export_xlsx"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """The orders the change list shows (same filters and search), with their lines."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            cl = self.get_changelist_instance(request)
        except (admin.options.IncorrectLookupParameters, ValidationError):
            self.message_user(request, _("筛选条件有误,未导出"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:order_order_changelist"))
        rows = export.export_rows(cl.queryset)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        if fmt == "xlsx":
            response = HttpResponse(
                export.xlsx_bytes(rows),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            response = StreamingHttpResponse(
                export.csv_chunks(rows), content_type="text/csv; charset=utf-8"
            )
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.{fmt}"'
        return response

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
                    Refund.Status.SUCCEEDED: (messages.SUCCESS, _("退款成功")),
                    Refund.Status.FAILED: (messages.ERROR, _("支付宝拒绝了退款")),
                    Refund.Status.PENDING: (
                        messages.WARNING,
                        _("暂未得到支付宝的答复,退款处理中(对账任务会用同一退款请求号完成它)"),
                    ),
                }[refund.status]
                self.message_user(
                    request, f"{text}: {refund.out_request_no} ¥{refund.amount}", level
                )
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("退款: %(order)s") % {"order": order.out_trade_no},
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
        "detail_text",
    ]
    list_filter = ["outcome", "verified", "trade_status", "received_at"]
    search_fields = ["out_trade_no", "notify_id"]
    date_hierarchy = "received_at"
    exclude = ["detail"]
    readonly_fields = ["detail_text"]

    @admin.display(description=_("说明"))
    def detail_text(self, notification: PaymentNotification) -> str:
        return notify_detail_text(notification.detail) or "-"


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


class ManualGrantForm(forms.ModelForm):
    class Meta:
        model = ManualGrant
        fields = ["user", "course", "reason"]

    def clean(self) -> dict:
        data = super().clean()
        user, course = data.get("user"), data.get("course")
        if user and course and CourseEntitlement.objects.filter(user=user, course=course).exists():
            raise ValidationError(_("该用户已拥有这门课程"))
        return data


@admin.register(ManualGrant)
class ManualGrantAdmin(admin.ModelAdmin):
    """Add = give a course by hand through `services.grant_course`; records are never edited."""

    form = ManualGrantForm
    list_display = ["created_at", "user", "course", "reason", "staff"]
    list_filter = ["created_at"]
    search_fields = ["user__username", "user__mobile", "course__name", "reason"]
    list_select_related = ["user", "course", "staff"]
    autocomplete_fields = ["user", "course"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj: ManualGrant, form, change) -> None:
        grant = services.grant_course(
            obj.user, course=obj.course, staff=request.user, reason=obj.reason
        )
        obj.pk, obj.staff, obj.entitlement, obj.created_at = (
            grant.pk,
            grant.staff,
            grant.entitlement,
            grant.created_at,
        )

    def changeform_view(self, request, *args, **kwargs) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except APIException as exc:  # lost a race with a payment of the same course
            self.message_user(request, _message(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
