from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrderConfig(AppConfig):
    name = "apps.order"
    label = "order"
    verbose_name = _("订单")
