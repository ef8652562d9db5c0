"""URLs of the local cashier, mounted at /cashier/ (luffy_api/urls.py, tests/support/cashier.py)."""

from django.urls import path

from . import views

app_name = "cashier"

urlpatterns = [
    path("gateway.do", views.gateway, name="gateway"),
    path("confirm/", views.confirm, name="confirm"),
    path("cancel/", views.cancel, name="cancel"),
]
