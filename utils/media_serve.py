"""Serve local media with HTTP Range support, for development and the `make run` demo.

Django's `django.views.static.serve` ignores `Range`, so a browser's `<video>` cannot seek (and
Safari will not play at all). This wraps it: same path checks, content types and 304s, plus
`Accept-Ranges: bytes` and a 206 answer for one byte range (what media players ask for).
Production serves media from Qiniu or a front web server, never from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils._os import safe_join
from django.views.static import serve

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


def serve_media(request: HttpRequest, path: str, document_root: str | Path) -> HttpResponse:
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
