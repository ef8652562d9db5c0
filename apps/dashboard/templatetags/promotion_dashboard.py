"""`{% promotion_dashboard %}`: the promotions block of the admin index, coupon usage and
flash-sale results, each shown to staff who may view those records."""

from __future__ import annotations

from django import template

from apps.coupon.selectors import coupon_usage
from apps.promotion.selectors import flash_sale_results

register = template.Library()


@register.inclusion_tag("admin/dashboard/promotions.html", takes_context=True)
def promotion_dashboard(context) -> dict:
    user = context["request"].user
    coupons = coupon_usage() if user.has_perm("coupon.view_coupon") else None
    sales = flash_sale_results() if user.has_perm("promotion.view_flashsale") else None
    return {"coupons": coupons, "sales": sales}
