"""Serving the built Vue storefront (web/dist): index.html for its pages, hashed assets forever.

WhiteNoise serves the files of `web/dist` at the site root (WHITENOISE_ROOT); this module adds the
history-mode fallback (every page path answers index.html, the router then draws the page) and the
"forever" cache for Vite's content-hashed `/assets/` files.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from whitenoise.middleware import WhiteNoiseMiddleware

# Paths the storefront never answers: they belong to Django (unknown /api/ paths stay JSON 404s).
RESERVED_PREFIXES = ("api/", "admin/", "static/", "media/", "cashier/")
PAGE_PATTERN = r"^(?!(?:{}))".format(
    "|".join(p.replace("/", r"(?:/|$)") for p in RESERVED_PREFIXES)
)

MISSING_BUILD = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{heading}</h1>
<p>{how}</p>
<p>{docs}</p>
</body></html>"""


def missing_build_page() -> str:
    """The 503 page in the site's one language (settings.LANGUAGE_CODE), built per request."""
    return MISSING_BUILD.format(
        lang=get_language(),
        title=_("路飞学城:前端尚未构建"),
        heading=_("路飞学城的前端还没有构建"),
        how=_(
            "没有找到 <code>web/dist/index.html</code>。请运行 <code>make run</code>"
            "(会自动安装 Node 并构建),或者手动构建:"
            "<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>。"
        ),
        docs=_('接口文档在 <a href="/api/docs/">/api/docs/</a>。'),
    )


@require_safe
def storefront_page(request: HttpRequest, path: str = "") -> HttpResponse:
    """index.html for any storefront page, revalidated on every visit so a deploy shows at once."""
    index = settings.STOREFRONT_DIR / "index.html"
    try:
        html = index.read_bytes()
    except FileNotFoundError:
        # 503, not 500: nothing is broken in the code, the build step has not run yet.
        response = HttpResponse(
            missing_build_page(), status=503, content_type="text/html; charset=utf-8"
        )
    else:
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


class StorefrontWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise that also knows Vite's hashed `/assets/index-B2BhwRft.js` names are immutable."""

    def immutable_file_test(self, path: str, url: str) -> bool:
        if url.startswith("/assets/"):
            return True
        return super().immutable_file_test(path, url)
