"""/health/ (liveness) and /health/ready/ (readiness)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.liveness, name="health-live"),
    path("ready/", views.readiness, name="health-ready"),
]
