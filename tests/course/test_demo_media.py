"""After `load_demo` every demo picture shows and every lesson plays, served the way `make run`
serves local media (with Range requests, which a <video> needs to seek)."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image

from apps.course.demo_media import DEMO_VIDEO_FILE, DEMO_VIDEO_KEY
from apps.course.management.commands.load_demo import COURSES, TEACHERS
from apps.course.models import Course, CourseSection, Teacher
from apps.home.models import Banner
from tests.test_settings import manage

from .helpers import CHAPTER_URL, LIST_URL, detail_url

pytestmark = pytest.mark.django_db
VIDEO = DEMO_VIDEO_FILE.read_bytes()


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.ROOT_URLCONF = "tests.support.media_urls"
    return Path(settings.MEDIA_ROOT)


def load() -> None:
    call_command("load_demo", "--force", stdout=StringIO())


def fetch(url: str, **headers: str):
    """GET an absolute URL the API handed out, from the test server."""
    return Client().get(urlsplit(url).path, headers=headers)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def trial_link() -> str:
    """The signed link of a demo free-trial lesson, as the API hands it to anyone."""
    course = Course.objects.get(name="Django框架实战")
    detail = Client().get(detail_url(course.pk)).json()
    return next(s["section_link"] for s in detail["section_list"] if s["free_trail"])


def assert_jpeg(url: str) -> None:
    response = fetch(url)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(body(response))).format == "JPEG"


def test_every_demo_course_teacher_and_banner_has_a_picture_the_server_serves(media_root):
    load()
    client = Client()

    courses = client.get(LIST_URL, {"size": 50}).json()["results"]
    banners = client.get("/api/v1/home/banner/").json()["result"]

    assert len(courses) == len(COURSES)
    assert len(banners) == 3
    teachers = {c["teacher"]["id"]: c["teacher"]["image"] for c in courses}
    assert len(teachers) == len(TEACHERS)
    for url in [c["course_img"] for c in courses] + list(teachers.values()):
        assert url and url.startswith("http://testserver/media/")
        assert_jpeg(url)
    for banner in banners:
        assert banner["image"].startswith("http://testserver/media/banners/")
        assert banner["link"].startswith("/")
        assert_jpeg(banner["image"])


def test_the_trial_section_link_serves_the_real_mp4(media_root):
    load()
    course = Course.objects.get(name="Django框架实战")

    detail = Client().get(detail_url(course.pk)).json()
    trial = next(s for s in detail["section_list"] if s["free_trail"])
    chapters = Client().get(CHAPTER_URL, {"course": course.pk}).json()
    links = [s["section_link"] for ch in chapters for s in ch["coursesections"]]
    response = fetch(trial["section_link"])

    # a signed link (local media), served with ranges; the plain path is never served
    assert trial["section_link"].startswith("http://testserver/media/signed/")
    assert fetch(f"/media/{DEMO_VIDEO_KEY}").status_code == 404
    assert links.count(None) == len(links) - 1  # paid lessons: only for owners
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    content = body(response)
    assert content == VIDEO
    assert content[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-1", 0, 1),  # what Chromium asks first: bytes=0-
        ("bytes=0-", 0, len(VIDEO) - 1),
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=-500", len(VIDEO) - 500, len(VIDEO) - 1),
        (f"bytes=100-{len(VIDEO) * 2}", 100, len(VIDEO) - 1),
    ],
)
def test_a_range_request_for_the_video_gets_206_with_those_bytes(media_root, header, first, last):
    load()

    response = fetch(trial_link(), Range=header)

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(VIDEO)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == VIDEO[first : last + 1]


@pytest.mark.parametrize("header", [f"bytes={len(VIDEO)}-", "bytes=-0", "bytes=5-2"])
def test_an_unsatisfiable_range_gets_416_with_the_size(media_root, header):
    load()

    response = fetch(trial_link(), Range=header)

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(VIDEO)}"


def test_a_missing_media_file_is_a_404_even_with_a_range(media_root):
    response = fetch("/media/demo/nothing.png", Range="bytes=0-")

    assert response.status_code == 404


def test_loading_again_writes_no_file_and_keeps_every_picture(media_root):
    load()
    files = sorted(p.relative_to(media_root) for p in media_root.rglob("*") if p.is_file())
    pictures = (
        list(Course.objects.values_list("course_img", flat=True))
        + list(Teacher.objects.values_list("image", flat=True))
        + list(Banner.objects.values_list("image", flat=True))
    )

    load()

    assert sorted(p.relative_to(media_root) for p in media_root.rglob("*") if p.is_file()) == files
    assert (
        list(Course.objects.values_list("course_img", flat=True))
        + list(Teacher.objects.values_list("image", flat=True))
        + list(Banner.objects.values_list("image", flat=True))
    ) == pictures
    assert Banner.objects.count() == 3
    assert set(CourseSection.objects.values_list("section_link", flat=True)) == {DEMO_VIDEO_KEY}
    # Every file is small: the demo must stay light.
    assert all((media_root / f).stat().st_size < 200_000 for f in files)


def test_a_picture_deleted_from_disk_is_drawn_again(media_root):
    load()
    course = Course.objects.get(name="Go微服务实战")
    (media_root / course.course_img.name).unlink()

    load()

    course.refresh_from_db()
    assert (media_root / course.course_img.name).is_file()


def test_make_run_serves_media_with_range_support():
    code = (
        "from django.urls import resolve; print(resolve('/media/demo/lesson.mp4').func.__module__)"
    )

    result = manage("shell", "--no-imports", "-c", code, DJANGO_DEBUG="true", LOCAL_CASHIER="0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "utils.media_serve"
