from django.urls import path, register_converter

from apps.coupon.views import OrderPreviewView
from utils.converters import TradeNoConverter

from . import views

register_converter(TradeNoConverter, "trade_no")

urlpatterns = [
    path("pay/", views.PayView.as_view(), name="order-pay"),
    # The checkout step before pay/ (coupons: apps/coupon); before the order-number paths.
    path("preview/", OrderPreviewView.as_view(), name="order-preview"),
    path("success/", views.PaySuccessView.as_view(), name="order-success"),
    path("", views.OrderListView.as_view(), name="order-list"),
    path("<trade_no:out_trade_no>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("<trade_no:out_trade_no>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("<trade_no:out_trade_no>/pay/", views.OrderPayAgainView.as_view(), name="order-pay-again"),
]
