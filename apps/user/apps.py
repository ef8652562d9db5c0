from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UserConfig(AppConfig):
    name = "apps.user"
    label = "user"
    verbose_name = _("用户")

    def ready(self) -> None:
        # A misconfigured SMS provider stops the server at start, not at the first sign-up.
        from .sms import get_sms_backend

        get_sms_backend()
