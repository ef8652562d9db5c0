"""Serve local media with HTTP Range support, for development and the `make run` demo.

Django's `django.views.static.serve` ignores `Range`, so a browser's `<video>` cannot seek (and
Safari will not play at all). This wraps it: same path checks, content types and 304s, plus
`Accept-Ranges: bytes` and a 206 answer for one byte range (what media players ask for).
Production serves media from Qiniu or a front web server (deploy/nginx/luffy.conf does the same).

Nothing served from here may become a page of the shop's origin: every answer says
`X-Content-Type-Options: nosniff`, images and videos are `inline` and any other file an
`attachment` of type application/octet-stream, and a sandboxing CSP lets nothing run even if a
browser did render one. Section videos are not served at their plain path at all: only through
the signed links of apps/course/media.py, which call `serve_file` after their checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils._os import safe_join
from django.views.static import serve

from utils.uploads import VIDEO_EXTENSIONS

# What a browser may show in place; everything else is downloaded, never rendered.
INLINE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm"}
    | {"video/quicktime", "video/x-m4v"}
)
# Media answers are files, never documents: no script, no plugin, no frame, a unique origin.
MEDIA_POLICY = (
    "default-src 'none'; img-src 'self'; media-src 'self'; sandbox; frame-ancestors 'none'"
)
# Keys only the signed links serve: uploaded section videos, and any video file by its name.
SIGNED_ONLY_PREFIXES = ("videos/",)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for one `bytes=` range, or None when it cannot be satisfied."""
    match = _RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":  # the last N bytes
        length = int(last_text)
        if length == 0:
            return None
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        return None
    return first, last


def _read(path: Path, first: int, last: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def signed_only(path: str) -> bool:
    """True for keys served through signed links only (apps/course/media.py)."""
    key = path.lstrip("/").lower()
    return key.startswith(SIGNED_ONLY_PREFIXES) or key.endswith(VIDEO_EXTENSIONS)


def serve_media(request: HttpRequest, path: str, document_root: str | Path) -> HttpResponse:
    """The /media/ view: any file but section videos, which only signed links serve."""
    if signed_only(path):
        raise Http404("served through signed links only")
    return serve_file(request, path, document_root)


def _as_file_answer(response: HttpResponse) -> HttpResponse:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    if response.status_code not in {200, 206}:  # a 304 or a 416: no body to render
        pass
    elif content_type in INLINE_TYPES:
        response["Content-Disposition"] = "inline"
    else:
        response["Content-Type"] = "application/octet-stream"
        response["Content-Disposition"] = "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_POLICY
    return response


def serve_file(request: HttpRequest, path: str, document_root: str | Path) -> HttpResponse:
    """A file under `document_root`, whole or one byte range, as a file and never a page."""
    return _as_file_answer(_serve_range(request, path, document_root))


def _serve_range(request: HttpRequest, path: str, document_root: str | Path) -> HttpResponse:
    response = serve(request, path, document_root=document_root)  # 404s, 304s, content type
    response["Accept-Ranges"] = "bytes"
    header = request.headers.get("Range")
    if response.status_code != 200 or not header or request.method not in {"GET", "HEAD"}:
        return response
    # We answer with part of the file instead: close the file, but not the response, whose
    # close() would send request_finished in the middle of the request (closing the database
    # connection).
    response.file_to_stream.close()
    full_path = Path(safe_join(str(document_root), path))
    size = full_path.stat().st_size
    wanted = _byte_range(header, size)
    if wanted is None:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    first, last = wanted
    partial = StreamingHttpResponse(
        _read(full_path, first, last), status=206, content_type=response["Content-Type"]
    )
    partial["Content-Range"] = f"bytes {first}-{last}/{size}"
    partial["Content-Length"] = str(last - first + 1)
    partial["Accept-Ranges"] = "bytes"
    if "Last-Modified" in response:
        partial["Last-Modified"] = response["Last-Modified"]
    return partial
