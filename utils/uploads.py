"""What an uploaded file may be: images that are images, videos that are videos.

Media is served from the shop's own origin (or its Qiniu domain): an `.html` or `.svg` uploaded
as a "video" or "image" would be a page with the shop's cookies and storage. Each check looks at
both the name (which decides the Content-Type the file is served with) and the first bytes (what
the file really is). Only new uploads are read; a file already stored is not fetched again.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import IO

from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

# Extension -> what Pillow must find inside. No SVG: it is a document that can run script.
IMAGE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".gif": "GIF",
    ".webp": "WEBP",
}
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".webm")
# Pillow refuses to decode bigger images (a decompression bomb): 50 megapixels is plenty here.
MAX_IMAGE_PIXELS = 50_000_000


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def _is_new_upload(value: FieldFile | IO[bytes]) -> bool:
    return not getattr(value, "_committed", False)


def _head(value: FieldFile | IO[bytes], size: int) -> bytes:
    stream = getattr(value, "file", value)
    position = stream.tell()
    try:
        stream.seek(0)
        return stream.read(size)
    finally:
        stream.seek(position)


# The first box of an ISO base media file: `ftyp` (MP4, M4V, MOV); older QuickTime files may
# open with one of the others.
_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}
_EBML = b"\x1a\x45\xdf\xa3"  # WebM (Matroska)


def looks_like_video(head: bytes) -> bool:
    """An ISO base media file (MP4, M4V, QuickTime) or a WebM file, by its first bytes."""
    return head[4:8] in _FIRST_BOXES or head[:4] == _EBML


def validate_video_upload(value: FieldFile) -> None:
    """A section video: a video extension, and video content (not a page renamed .mp4)."""
    if not value or not _is_new_upload(value):
        return
    if _extension(value.name) not in VIDEO_EXTENSIONS:
        raise ValidationError(
            _("只能上传视频文件(%(extensions)s)"),
            code="invalid_extension",
            params={"extensions": ", ".join(VIDEO_EXTENSIONS)},
        )
    if not looks_like_video(_head(value, 12)):
        raise ValidationError(_("文件内容不是 MP4、MOV 或 WebM 视频"), code="invalid_video")


def validate_image_upload(value: FieldFile) -> None:
    """A picture: a JPEG/PNG/GIF/WebP extension, and Pillow finds that very kind of image."""
    if not value or not _is_new_upload(value):
        return
    expected = IMAGE_FORMATS.get(_extension(value.name))
    if expected is None:
        raise ValidationError(
            _("只能上传图片文件(%(extensions)s)"),
            code="invalid_extension",
            params={"extensions": ", ".join(IMAGE_FORMATS)},
        )
    stream = getattr(value, "file", value)
    position = stream.tell()
    try:
        stream.seek(0)
        with Image.open(stream) as image:
            found = image.format
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ValidationError(_("图片尺寸过大"), code="image_too_large")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("文件内容不是有效的图片"), code="invalid_image") from None
    finally:
        stream.seek(position)
    if found != expected:
        raise ValidationError(
            _("图片内容(%(found)s)与扩展名不符"), code="invalid_image", params={"found": found}
        )
