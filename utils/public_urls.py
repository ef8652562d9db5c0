"""Absolute URLs in API bodies, built from configuration, never from the request's Host header.

Anonymous catalog pages are cached and served to everyone (apps/course/cache.py), and Django's
`build_absolute_uri` takes scheme and host from the request: one request with a foreign `Host`
(any allowed host, or a broad ALLOWED_HOSTS) put that host into the media links later visitors
received. Every absolute link we hand out is made here instead: media under MEDIA_BASE_URL
(SITE_URL + MEDIA_URL unless set), other paths under SITE_URL, and URLs that are absolute
already (Qiniu's domain, signed links) as they are.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.db.models.fields.files import FieldFile
from rest_framework import serializers


def absolute_url(url: str) -> str:
    """`url` as clients receive it: a path gets the configured base, a full URL is kept."""
    parts = urlsplit(url)
    if not url or parts.scheme or parts.netloc:
        return url
    if url.startswith(settings.MEDIA_URL):
        return settings.MEDIA_BASE_URL + url[len(settings.MEDIA_URL) :]
    return settings.SITE_URL + (url if url.startswith("/") else f"/{url}")


class MediaURLField(serializers.ImageField):
    """A read-only file or image field that answers its absolute URL (or null when empty)."""

    def __init__(self, **kwargs) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: FieldFile | None) -> str | None:
        if not value:
            return None
        return absolute_url(value.url)
