"""URL map: the versioned API under /api/v1/, its schema and docs, the admin, and the storefront."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.course.views import signed_media
from utils.exceptions import api_not_found
from utils.media_serve import serve_media
from utils.storefront import PAGE_PATTERN, storefront_page

api_v1 = [
    path("user/", include("apps.user.urls")),
    path("course/", include("apps.course.urls")),
    path("order/", include("apps.order.urls")),
    path("home/", include("apps.home.urls")),
    path("promotion/", include("apps.promotion.urls")),
    path("coupon/", include("apps.coupon.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", include("apps.health.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page and its init script come separately: the CSP allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="utils/swagger_ui.html"
        ),
        name="swagger-ui",
    ),
    re_path(r"^api/", api_not_found),  # last under api/: a JSON 404 even with DEBUG on
]

# Section videos on local storage: short-lived signed links, checked at every request
# (apps/course/media.py), with DEBUG on or off; nginx may send the file (MEDIA_ACCEL_REDIRECT).
urlpatterns.append(
    path(f"{settings.MEDIA_URL.lstrip('/')}signed/<str:token>/", signed_media, name="signed-media")
)

# Local media (uploaded images and videos) when no object storage is configured. In production
# a front web server or Qiniu serves media; Django only does it when asked to (SERVE_MEDIA),
# with Range support so that <video> can seek.
if settings.SERVE_MEDIA:
    prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(
        re_path(rf"^{prefix}(?P<path>.*)$", serve_media, {"document_root": settings.MEDIA_ROOT})
    )

# The local Alipay cashier: development only (settings refuse LOCAL_CASHIER with DEBUG off).
# First, so that no catch-all route can shadow it.
if settings.LOCAL_CASHIER:
    urlpatterns.insert(0, path("cashier/", include("apps.cashier.urls")))

# Last: every other path is a storefront page (Vue Router, history mode) and gets index.html.
urlpatterns.append(re_path(PAGE_PATTERN, storefront_page, name="storefront"))

handler400 = "utils.exceptions.handler400"
handler403 = "utils.exceptions.handler403"
handler404 = "utils.exceptions.handler404"
handler500 = "utils.exceptions.handler500"
