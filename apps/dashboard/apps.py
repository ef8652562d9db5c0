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

        # django-axes names its admin section with a plain "Axes" (not a translatable string).
        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = _("后台登录防护")
        # simplejwt's blacklist names its token field by the attribute ("Token"), untranslatable.
        if apps.is_installed("rest_framework_simplejwt.token_blacklist"):
            model = apps.get_model("token_blacklist", "BlacklistedToken")
            model._meta.get_field("token").verbose_name = _("令牌")
