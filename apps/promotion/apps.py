from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionConfig(AppConfig):
    name = "apps.promotion"
    label = "promotion"
    verbose_name = _("促销")

    def ready(self) -> None:
        # An order that ends unpaid gives its flash-sale seat back (and takes it if paid late).
        from apps.order.services.transitions import status_changed

        from .services import follow_order_status

        status_changed.connect(follow_order_status, dispatch_uid="flash_seat_release")
