"""The site's URLconf for browser tests: the local cashier and local media on the live server.

The suite runs with DEBUG off, so neither is mounted by luffy_api/urls.py; `make run` mounts both.
"""

from django.conf import settings
from django.urls import re_path

from tests.support.cashier_urls import handler400, handler403, handler404, handler500  # noqa: F401
from tests.support.cashier_urls import urlpatterns as cashier_urlpatterns
from utils.media_serve import serve_media


def local_media(request, path: str):
    # MEDIA_ROOT read per request: tests point it at their own folder after this module loaded.
    return serve_media(request, path, document_root=settings.MEDIA_ROOT)


# The site's own signed-media route comes first (cashier_urlpatterns holds the site's URLs).
urlpatterns = [
    *[p for p in cashier_urlpatterns if getattr(p, "name", None) == "signed-media"],
    re_path(r"^media/(?P<path>.*)$", local_media),
    *cashier_urlpatterns,
]
