from django.urls import path

from . import views

urlpatterns = [
    path("flash/", views.FlashSaleListView.as_view(), name="flash-sale-list"),
    path("flash/<int:sale_id>/buy/", views.FlashBuyView.as_view(), name="flash-sale-buy"),
]
