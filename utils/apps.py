"""App config of the shared plumbing (utils), which has one table: the throttle counters."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UtilsConfig(AppConfig):
    """Shared plumbing; an app only because the throttle counters need a table."""

    name = "utils"
    label = "utils"
    verbose_name = _("公共组件")
