"""Staff screens for users: their orders and owned courses on the user page, search by mobile,
e-mail or username; SMS codes read-only."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.course import selectors as course_selectors
from apps.order.models import CourseEntitlement, ManualGrant, Order

from .models import SmsCode, User

_ACTIONS = {
    "add": _("可以添加"),
    "change": _("可以修改"),
    "delete": _("可以删除"),
    "view": _("可以查看"),
}


def permission_label(perm: Permission) -> str:
    """ "订单 | 订单记录 | 可以查看订单记录": Django stores the names in English ("Can view …")."""
    model = perm.content_type.model_class()
    if model is None:
        return str(perm)
    opts = model._meta
    action = perm.codename.split("_", 1)[0]
    app = apps_verbose_name(opts.app_label)
    name = f"{_ACTIONS[action]}{opts.verbose_name}" if action in _ACTIONS else perm.name
    return f"{app} | {opts.verbose_name} | {name}"


def apps_verbose_name(label: str) -> str:
    from django.apps import apps

    return str(apps.get_app_config(label).verbose_name)


class PermissionLabels:
    """Permission pickers (user, group) labelled in the staff's language."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name in ("permissions", "user_permissions"):
            field.label_from_instance = permission_label
        return field


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class UserOrderInline(ReadOnlyInline):
    model = Order
    fields = ["order_link", "subject", "total_amount", "order_status", "pay_time", "created_time"]
    readonly_fields = fields
    verbose_name_plural = _("订单(最近的在前)")

    @admin.display(description=_("订单号"))
    def order_link(self, order: Order) -> str:
        url = reverse("admin:order_order_change", args=[order.pk])
        return format_html('<a href="{}">{}</a>', url, order.out_trade_no)


class UserCourseInline(ReadOnlyInline):
    model = CourseEntitlement
    fields = ["course", "order", "source", "created_time"]
    readonly_fields = fields
    verbose_name_plural = _("已拥有的课程")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("course", "order", "manual_grant")

    @admin.display(description=_("来源"))
    def source(self, entitlement: CourseEntitlement) -> str:
        grant = getattr(entitlement, "manual_grant", None)
        if grant is not None:
            return _("人工开通:%(reason)s") % {"reason": grant.reason}
        return _("购买") if entitlement.order_id else "-"


class UserGrantInline(ReadOnlyInline):
    model = ManualGrant
    fk_name = "user"
    fields = ["course", "reason", "staff", "created_at"]
    readonly_fields = fields
    verbose_name_plural = _("人工开通记录")


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionLabels, DjangoGroupAdmin):
    pass


@admin.register(User)
class UserAdmin(PermissionLabels, DjangoUserAdmin):
    list_display = ["id", "username", "mobile", "email", "is_staff", "is_active", "date_joined"]
    search_fields = ["username", "mobile", "email"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("路飞学城资料"), {"fields": ["mobile", "icon"]}),
        (_("学习进度"), {"fields": ["learning_progress"]}),
    ]
    readonly_fields = ["learning_progress"]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "mobile", "password1", "password2"]}),
    ]

    @admin.display(description=_("各课程进度"))
    def learning_progress(self, user: User) -> str:
        found = course_selectors.learner_courses(user) if user.pk else []
        if not found:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {} / {} ({}%), {}</li>",
                (
                    (
                        course.name,
                        progress.completed,
                        len(progress.lessons),
                        progress.percent,
                        date_format(timezone.localtime(at), "Y-m-d H:i"),
                    )
                    for course, progress, at in found
                ),
            ),
        )

    def get_inlines(self, request, obj):
        # Only on an existing user's page: the add form has nothing to show yet.
        return [UserOrderInline, UserCourseInline, UserGrantInline] if obj else []


@admin.register(SmsCode)
class SmsCodeAdmin(admin.ModelAdmin):
    """Read-only: codes are stored hashed and only the service changes them."""

    list_display = ["mobile", "created_at", "expires_at", "attempts", "used_at"]
    search_fields = ["mobile"]
    list_filter = ["created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
