"""App config of coupons: what staff define, what shoppers hold, what an order uses."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouponConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.coupon"
    verbose_name = _("优惠券")
