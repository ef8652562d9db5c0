"""Staff define coupons here and see their usage (claimed, used, discount given), make batches
of single-use codes and export them as CSV; the coupons shoppers hold."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import APIException

from . import export, selectors, services
from .models import CodeBatch, Coupon, CouponCode, UserCoupon


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
    readonly_fields = ["issued", "used_count", "discount_given", "created_at", "code_batches"]
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
                    "used_count",
                    "discount_given",
                    "per_user_limit",
                    "code_batches",
                    "created_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.with_usage(super().get_queryset(request))

    @admin.display(description=_("已使用"), ordering="used")
    def used_count(self, coupon: Coupon) -> int:
        return getattr(coupon, "used", 0)  # an unsaved coupon (the add page) has none

    @admin.display(description=_("已优惠金额"), ordering="discount_given")
    def discount_given(self, coupon: Coupon) -> Decimal:
        # Two places whatever the backend returns (SQLite's SUM can drop trailing zeros).
        return (getattr(coupon, "discount_given", None) or Decimal("0")).quantize(Decimal("0.01"))

    @admin.display(description=_("兑换码批次"))
    def code_batches(self, coupon: Coupon) -> str:
        if coupon.pk is None or coupon.obtain != Coupon.Obtain.BATCH:
            return "-"
        made = reverse("admin:coupon_coupon_codes", args=[coupon.pk])
        listed = reverse("admin:coupon_codebatch_changelist") + f"?coupon__id__exact={coupon.pk}"
        return format_html(
            '<a class="button" href="{}">{}</a> <a href="{}">{}</a>',
            made,
            _("生成兑换码…"),
            listed,
            _("查看批次"),
        )

    def get_urls(self) -> list:
        codes = self.admin_site.admin_view(self.codes_view)
        return [
            path("<int:object_id>/codes/", codes, name="coupon_coupon_codes"),
            *super().get_urls(),
        ]

    def codes_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The intermediate page: how many codes and a note, then the batch (with its CSV)."""
        if not request.user.has_perm("coupon.add_codebatch"):
            raise PermissionDenied
        coupon = get_object_or_404(Coupon, pk=object_id)
        change_url = reverse("admin:coupon_coupon_change", args=[coupon.pk])
        form = CodeBatchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                batch = services.create_code_batch(
                    coupon.pk, staff=request.user, **form.cleaned_data
                )
            except APIException as exc:
                form.add_error(None, _message(exc))
            else:
                self.message_user(
                    request,
                    _("已生成 %(size)s 个兑换码") % {"size": batch.size},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:coupon_codebatch_change", args=[batch.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("生成兑换码: %(coupon)s") % {"coupon": coupon.name},
            "opts": self.model._meta,
            "coupon": coupon,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/coupon/coupon/codes.html", context)


class CodeBatchForm(forms.Form):
    size = forms.IntegerField(
        label=_("数量"),
        min_value=1,
        max_value=services.MAX_BATCH_SIZE,
        help_text=_("每个兑换码只能兑换一次,并占用优惠券的一份库存。"),
    )
    note = forms.CharField(label=_("备注"), max_length=64, required=False)


def _message(exc: APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(str(m) for messages_ in detail.values() for m in messages_)
    return str(detail)


@admin.register(CodeBatch)
class CodeBatchAdmin(admin.ModelAdmin):
    """Batches are made from their coupon's page (the service takes the stock) and read here."""

    list_display = ["id", "coupon", "size", "redeemed", "note", "created_by", "created_at"]
    list_filter = ["coupon"]
    list_select_related = ["coupon", "created_by"]
    fields = ["coupon", "size", "redeemed", "note", "created_by", "created_at", "export_link"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        redeemed = Count("codes", filter=Q(codes__redeemed_at__isnull=False))
        return super().get_queryset(request).annotate(n_redeemed=redeemed)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("已兑换"), ordering="n_redeemed")
    def redeemed(self, batch: CodeBatch) -> int:
        return batch.n_redeemed

    @admin.display(description=_("导出"))
    def export_link(self, batch: CodeBatch) -> str:
        url = reverse("admin:coupon_codebatch_export", args=[batch.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("导出 CSV"))

    def get_urls(self) -> list:
        export_csv = self.admin_site.admin_view(self.export_view)
        return [
            path("<int:object_id>/export.csv", export_csv, name="coupon_codebatch_export"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(CodeBatch.objects.select_related("coupon"), pk=object_id)
        response = StreamingHttpResponse(
            export.batch_csv(batch), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{export.batch_filename(batch)}"'
        return response


@admin.register(CouponCode)
class CouponCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "batch", "redeemed_at", "user_coupon"]
    list_filter = [("redeemed_at", admin.EmptyFieldListFilter), "batch__coupon"]
    search_fields = ["code"]
    list_select_related = ["batch__coupon", "user_coupon__user", "user_coupon__coupon"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


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
