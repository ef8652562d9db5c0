"""App config of the local Alipay cashier (installed only with LOCAL_CASHIER, and in tests)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CashierConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.cashier"
    verbose_name = _("本地支付宝收银台(开发)")
