from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("user", views.UserViewSet, basename="user")

urlpatterns = [
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    *router.urls,
]
