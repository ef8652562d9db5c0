"""Coupon URLs under /api/v1/coupon/ (my coupons: user/coupons/, the preview: order/preview/)."""

from django.urls import path, register_converter

from utils.converters import IdConverter

from . import views

# Its own name: "id" is registered by apps.course.urls (registering a name twice is deprecated).
register_converter(IdConverter, "coupon_id")

urlpatterns = [
    path("", views.CouponListView.as_view(), name="coupon-list"),
    path("redeem/", views.CouponRedeemView.as_view(), name="coupon-redeem"),
    path("<coupon_id:pk>/claim/", views.CouponClaimView.as_view(), name="coupon-claim"),
]
