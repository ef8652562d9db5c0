"""The admin's front page (sales at a glance) and the admin site's header and links."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "apps.dashboard"
    verbose_name = _("销售概况")

    def ready(self) -> None:
        from django.apps import apps
        from django.contrib import admin

        admin.site.site_header = _("路飞学城 管理后台")
        admin.site.site_title = _("路飞学城 管理后台")
        admin.site.index_title = _("站点管理")
        admin.site.site_url = "/"  # "查看站点": the storefront
        admin.site.index_template = "admin/dashboard/index.html"

        # django-axes names its admin section with a plain "Axes" and its records with English
        # f-strings (page titles, breadcrumbs): both replaced with translatable text.
        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = _("后台登录防护")
            _name_axes_records(apps)
        # simplejwt's blacklist names its token field by the attribute ("Token"), untranslatable.
        if apps.is_installed("rest_framework_simplejwt.token_blacklist"):
            model = apps.get_model("token_blacklist", "BlacklistedToken")
            model._meta.get_field("token").verbose_name = _("令牌")


def _when(moment) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}" if moment else "-"


def _name_axes_records(apps) -> None:
    def failure(log) -> str:
        text = _("%(user)s 登录失败,%(time)s,来自 %(ip)s")
        text = text % {"user": log.username, "time": _when(log.attempt_time), "ip": log.ip_address}
        return f"{text}{_('(已锁定)') if log.locked_out else ''}"

    def attempt(record) -> str:
        return _("登录尝试:%(time)s") % {"time": _when(record.attempt_time)}

    def access_log(log) -> str:
        return _("%(user)s 的登录日志,%(time)s") % {
            "user": log.username,
            "time": _when(log.attempt_time),
        }

    apps.get_model("axes", "AccessFailureLog").__str__ = failure
    apps.get_model("axes", "AccessAttempt").__str__ = attempt
    apps.get_model("axes", "AccessLog").__str__ = access_log
