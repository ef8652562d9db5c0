"""App config of coupons: what staff define, what shoppers hold, what an order uses."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouponConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.coupon"
    verbose_name = _("优惠券")

    def ready(self) -> None:
        # An order's coupon follows its status: used by its payment, released when it ends
        # unpaid. The order app sends the signal and knows nothing of coupons.
        from apps.order.services.transitions import status_changed

        from .services import follow_order_status

        status_changed.connect(follow_order_status, dispatch_uid="coupon_follows_order")
