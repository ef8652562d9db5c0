from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionConfig(AppConfig):
    name = "apps.promotion"
    label = "promotion"
    verbose_name = _("促销")

    def ready(self) -> None:
        # An order that ends unpaid (cancelled, timed out) gives its flash-sale seat back.
        from apps.order.services.transitions import status_changed

        from .services import release_seat_of_ended_order

        status_changed.connect(release_seat_of_ended_order, dispatch_uid="flash_seat_release")
