"""The site's URLconf plus the local cashier at /cashier/, for tests (they run with DEBUG off)."""

from django.urls import include, path

from luffy_api.urls import handler400, handler403, handler404, handler500  # noqa: F401
from luffy_api.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("cashier/", include("apps.cashier.urls")), *site_urlpatterns]
