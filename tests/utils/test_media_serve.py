"""utils/media_serve.py: local media goes out as files, never as pages of the shop's origin, and
section videos not at all at their plain path (signed links only: apps/course/media.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.utils.test_uploads import picture


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.ROOT_URLCONF = "tests.web.urls"  # /media/ mounted, as SERVE_MEDIA does
    (tmp_path / "evil.html").write_text("<script>alert(document.cookie)</script>")
    (tmp_path / "evil.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg' onload='1'/>")
    (tmp_path / "notes.txt").write_text("plain")
    (tmp_path / "cover.png").write_bytes(picture("PNG"))
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "lesson.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (tmp_path / "videos" / "slides.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "lesson.webm").write_bytes(b"\x1a\x45\xdf\xa3")
    return tmp_path


@pytest.mark.parametrize("name", ["evil.html", "evil.svg", "notes.txt"])
def test_anything_but_a_picture_or_video_is_a_download_that_cannot_run(media, name):
    response = Client().get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response or response["X-Frame-Options"] == "DENY"


def test_a_picture_shows_in_place_with_its_type(media):
    response = Client().get("/media/cover.png", HTTP_RANGE="bytes=0-7")

    assert response.status_code == 206
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["videos/lesson.mp4", "videos/slides.pdf", "demo/lesson.webm"])
def test_videos_are_never_served_at_their_plain_path(media, path):
    assert Client().get(f"/media/{path}").status_code == 404
