"""URLs of the home page content, under /api/v1/home/."""

from django.urls import path

from . import views

urlpatterns = [
    path("banner/", views.BannerView.as_view(), name="home-banner"),
]
