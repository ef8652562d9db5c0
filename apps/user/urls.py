"""Account URLs under /api/v1/user/ (the tutorial's paths), and the courses a user owns."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.coupon.views import UserCouponListView
from apps.order.views import OwnedCourseListView

from . import views

router = SimpleRouter()
router.register("user", views.UserViewSet, basename="user")

urlpatterns = [
    # Owning a course is an order's outcome, so the view lives with the orders.
    path("courses/", OwnedCourseListView.as_view(), name="user-courses"),
    path("coupons/", UserCouponListView.as_view(), name="user-coupons"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    *router.urls,
]
