"""The Content-Security-Policy and X-Frame-Options of every HTML answer, whoever made it.

It sits before WhiteNoise in MIDDLEWARE: WhiteNoise answers `/index.html` itself, so neither
Django's XFrameOptionsMiddleware nor anything after WhiteNoise sees that answer, and the
storefront could be framed. An answer that already carries a policy (local media, which sends a
stricter one: utils/media_serve.py) keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:  # settings.py imports origin_of: nothing here may load Django's HTTP stack
    from django.http import HttpRequest, HttpResponse

HTML_TYPES = ("text/html", "application/xhtml+xml")


def origin_of(url: str) -> str | None:
    """`https://cdn.example.com` of a full URL; None for a path or an empty value."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def policy_header(policy: Mapping[str, Sequence[str]]) -> str:
    """`default-src 'self'; img-src 'self' data:` from {"default-src": ["'self'"], ...}."""
    return "; ".join(
        " ".join([directive, *dict.fromkeys(sources)]).strip()
        for directive, sources in policy.items()
    )


@lru_cache(maxsize=8)
def _header_for(items: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return policy_header(dict(items))


def current_policy() -> str:
    """settings.CONTENT_SECURITY_POLICY as a header value (remembered per distinct policy)."""
    policy = settings.CONTENT_SECURITY_POLICY
    return _header_for(tuple((key, tuple(values)) for key, values in policy.items()))


def is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").lower().startswith(HTML_TYPES)


class SecurityHeadersMiddleware:
    """Adds the site's CSP (with `frame-ancestors 'none'`) and `X-Frame-Options: DENY` to HTML."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_html(response):
            response.headers.setdefault("Content-Security-Policy", current_policy())
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response
