"""The site's URLconf plus local media served as `make run` serves it (tests run with DEBUG off)."""

from django.conf import settings
from django.urls import re_path

from luffy_api.urls import handler400, handler403, handler404, handler500  # noqa: F401
from luffy_api.urls import urlpatterns as site_urlpatterns
from utils.media_serve import serve_media


def _media(request, path):
    return serve_media(request, path, document_root=settings.MEDIA_ROOT)  # as it is now


urlpatterns = [*site_urlpatterns, re_path(r"^media/(?P<path>.*)$", _media)]
