"""utils/uploads.py: a video must be named and made like a video, an image like an image."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.course.models import CourseSection
from apps.home.models import Banner
from tests.support.qiniu import sample_mp4_bytes
from utils.uploads import validate_image_upload, validate_video_upload

PAGE = b"<!doctype html><script>fetch('/api/v1/user/')</script>"
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


def picture(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(out, kind)
    return out.getvalue()


def uploaded_into(field_owner, field: str, name: str, data: bytes):
    """The model's FieldFile for a new upload, as a ModelForm hands it to validation."""
    setattr(field_owner, field, SimpleUploadedFile(name, data))
    return getattr(field_owner, field)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("lesson.mp4", sample_mp4_bytes(200)),
        ("a.MOV", sample_mp4_bytes(64)),
        ("old.mov", b"\x00\x00\x00\x08wide" + b"\x00" * 40),  # an older QuickTime file
        ("b.webm", WEBM),
    ],
)
def test_real_videos_pass(name, data):
    validate_video_upload(uploaded_into(CourseSection(), "video", name, data))


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("page.html", PAGE, "invalid_extension"),
        ("image.svg", b"<svg onload=alert(1)>", "invalid_extension"),
        ("lesson.mp4.html", sample_mp4_bytes(64), "invalid_extension"),
        ("noextension", sample_mp4_bytes(64), "invalid_extension"),
        ("page.mp4", PAGE, "invalid_video"),
        ("empty.mp4", b"", "invalid_video"),
    ],
)
def test_anything_else_is_no_video(name, data, code):
    with pytest.raises(ValidationError) as refused:
        validate_video_upload(uploaded_into(CourseSection(), "video", name, data))
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("name", "kind"), [("a.jpg", "JPEG"), ("b.JPEG", "JPEG"), ("c.png", "PNG"), ("d.gif", "GIF")]
)
def test_real_images_pass(name, kind):
    validate_image_upload(uploaded_into(Banner(), "image", name, picture(kind)))


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("page.html", PAGE, "invalid_extension"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>',
            "invalid_extension",
        ),
        ("page.png", PAGE, "invalid_image"),
        ("half.png", picture("PNG")[:20], "invalid_image"),
        ("png-inside.jpg", picture("PNG"), "invalid_image"),
        ("bmp.png", picture("BMP"), "invalid_image"),
    ],
)
def test_anything_else_is_no_image(name, data, code):
    with pytest.raises(ValidationError) as refused:
        validate_image_upload(uploaded_into(Banner(), "image", name, data))
    assert refused.value.code == code


def test_a_stored_file_is_not_read_again():
    section = CourseSection(video="videos/abc.mp4")  # committed: on disk or in the bucket
    validate_video_upload(section.video)  # no storage access, no error
    validate_image_upload(Banner(image="banners/x.png").image)
