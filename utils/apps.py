"""App config of the shared plumbing (utils), which has one table: the throttle counters."""

from django.apps import AppConfig


class UtilsConfig(AppConfig):
    """Shared plumbing; an app only because the throttle counters need a table."""

    name = "utils"
    label = "utils"
    verbose_name = "公共组件"
