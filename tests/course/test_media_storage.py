"""Where section videos go: MEDIA_ROOT without Qiniu, the bucket with it (model and admin)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from apps.course.models import CourseSection
from libs.qiniu import QiniuClient, QiniuError
from libs.qiniu.storage import QiniuStorage
from tests.factories import ChapterFactory, SectionFactory
from tests.support.media import (
    AK,
    BUCKET,
    LOCAL_STORAGE,
    MIB,
    SK,
    keep_upload_records_in,
    qiniu_env,
    use_qiniu,
)
from tests.support.qiniu import FakeQiniu, qiniu_etag, sample_mp4_bytes

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"^videos/[0-9a-f]{32}\.mp4$")
LARGE = 8 * MIB + 1


@pytest.fixture
def fake(fake_qiniu):
    return fake_qiniu  # tests/support/media.py


@pytest.fixture
def qiniu_media(settings, fake, tmp_path, monkeypatch):
    """Media on the fake's private bucket, configured as from the environment."""
    records = tmp_path / "upload-records"
    records.mkdir()
    keep_upload_records_in(monkeypatch, records)
    return use_qiniu(settings, fake)


@pytest.fixture
def local_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def save_section(video, **fields) -> CourseSection:
    section = SectionFactory.build(chapter=ChapterFactory(), section_link="", **fields)
    section.video = video
    section.save()
    section.refresh_from_db()
    return section


# --- the switch -----------------------------------------------------------------------------------


def test_without_qiniu_videos_land_under_media_root(settings, local_media):
    assert settings.QINIU is None
    assert settings.STORAGES["default"]["BACKEND"] == LOCAL_STORAGE
    assert isinstance(default_storage, FileSystemStorage)
    data = sample_mp4_bytes(50_000)

    section = save_section(ContentFile(data, name="第1课 intro.MP4"))

    assert KEY.match(section.video.name), section.video.name
    assert (local_media / section.video.name).read_bytes() == data
    assert section.video_size == len(data)
    assert section.video_etag == qiniu_etag(data)
    assert section.video.url == f"/media/{section.video.name}"


def test_with_qiniu_the_default_storage_is_the_bucket(qiniu_media, fake, local_media):
    assert isinstance(default_storage, QiniuStorage)
    data = sample_mp4_bytes(50_000)

    section = save_section(ContentFile(data, name="intro.mp4"))

    key = section.video.name
    assert KEY.match(key), key
    assert fake.objects == {key: data}
    assert section.video_size == len(data)
    assert section.video_etag == qiniu_etag(data) == fake.stat_info(key)["hash"]
    assert fake.stat_info(key)["mimeType"] == "video/mp4"
    assert not any(local_media.rglob("*.mp4"))  # nothing written locally
    # The name was checked first (stat answers 612), then one form upload.
    assert fake.request_types() == ["stat", "form"]
    # The storage answers for its objects.
    assert default_storage.exists(key) and not default_storage.exists("videos/none.mp4")
    assert default_storage.size(key) == len(data)
    assert default_storage.open(key).read() == data  # through a signed link


def test_uploaded_files_keep_their_type_and_get_unguessable_keys(qiniu_media, fake):
    first = save_section(SimpleUploadedFile("lesson.mp4", b"\x00" * 3000, "video/x-custom"))
    second = save_section(SimpleUploadedFile("lesson.mp4", b"\x01" * 3000, "video/x-custom"))

    assert KEY.match(first.video.name) and KEY.match(second.video.name)
    assert first.video.name != second.video.name
    assert fake.stat_info(first.video.name)["mimeType"] == "video/x-custom"
    assert fake.objects[second.video.name] == b"\x01" * 3000
    assert "lesson" not in first.video.name


def test_clearing_the_video_clears_size_and_etag(qiniu_media, fake):
    section = save_section(ContentFile(b"abc", name="a.mp4"))
    section.video = None
    section.save()
    section.refresh_from_db()
    assert (section.video.name, section.video_size, section.video_etag) == ("", None, "")


def test_a_failed_upload_saves_no_row(qiniu_media, fake):
    fake.mode = "corrupt"
    chapter = ChapterFactory()
    section = SectionFactory.build(chapter=chapter, section_link="")
    section.video = ContentFile(sample_mp4_bytes(1000), name="a.mp4")

    with pytest.raises(QiniuError, match="Qiniu stored"), transaction.atomic():
        section.save()  # the upload comes first (pre_save), the INSERT never runs

    assert not CourseSection.objects.exists()
    assert fake.objects == {}


# --- the admin ------------------------------------------------------------------------------------


def chapter_form(chapter, **section) -> dict:
    """The chapter change form with one new inline section (fields as the admin renders them)."""
    return {
        "course": chapter.course_id,
        "chapter": chapter.chapter,
        "name": chapter.name,
        "summary": "",
        "pub_date": "2026-01-02",
        "orders": 0,
        "is_show": "on",
        "coursesections-TOTAL_FORMS": 1,
        "coursesections-INITIAL_FORMS": 0,
        "coursesections-MIN_NUM_FORMS": 0,
        "coursesections-MAX_NUM_FORMS": 1000,
        "coursesections-0-chapter": chapter.pk,
        "coursesections-0-name": "Uploaded section",
        "coursesections-0-section_type": 2,
        "coursesections-0-section_link": "",
        "coursesections-0-duration": "09:30",
        "coursesections-0-orders": 1,
        "coursesections-0-is_show": "on",
        **{f"coursesections-0-{name}": value for name, value in section.items()},
    }


def change_url(chapter) -> str:
    return f"/admin/course/coursechapter/{chapter.pk}/change/"


@pytest.fixture
def upload_calls(monkeypatch):
    """Which client method each upload took (temporary file or in-memory stream)."""
    calls = []
    for name in ("upload_file", "upload_stream"):
        original = getattr(QiniuClient, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(QiniuClient, name, spy)
    return calls


@pytest.mark.parametrize(
    ("size", "path", "requests"),
    [
        (MIB, "upload_stream", ["stat", "form"]),  # in memory (under 2.5 MiB)
        (LARGE, "upload_file", ["stat", "init", "part", "part", "part", "complete"]),
    ],
    ids=["small", "large"],
)
def test_staff_uploads_a_video_in_the_chapter_form(
    staff_client, qiniu_media, fake, upload_calls, size, path, requests
):
    chapter = ChapterFactory()
    data = sample_mp4_bytes(size)
    video = SimpleUploadedFile("第2课.mp4", data, content_type="video/mp4")

    response = staff_client.post(change_url(chapter), chapter_form(chapter, video=video))

    assert response.status_code == 302, response.context and response.context["errors"]
    section = chapter.coursesections.get()
    key = section.video.name
    assert KEY.match(key), key
    assert fake.objects == {key: data}
    assert (section.video_size, section.video_etag) == (size, qiniu_etag(data))
    assert fake.stat_info(key)["hash"] == section.video_etag
    assert upload_calls == [path]
    assert sorted(fake.request_types()) == sorted(requests)

    page = staff_client.get(change_url(chapter))

    assert page.status_code == 200
    # The size as people read it, with the exact bytes: "1.0 MB (1,048,576 字节)".
    for shown in (key, f"({size:,} 字节)", section.video_etag):
        assert shown in page.text, shown


@pytest.mark.parametrize("mode", ["http500", "corrupt"])
def test_a_failed_upload_in_the_admin_saves_nothing(staff_client, qiniu_media, fake, mode):
    chapter = ChapterFactory(name="Before")
    fake.mode = mode
    data = chapter_form(chapter, video=SimpleUploadedFile("a.mp4", sample_mp4_bytes(2000)))
    data["name"] = "After"  # the chapter's own change is rolled back with the section

    response = staff_client.post(change_url(chapter), data)

    assert response.status_code == 302
    assert response["Location"] == change_url(chapter)
    assert not CourseSection.objects.exists()
    chapter.refresh_from_db()
    assert chapter.name == "Before"
    assert fake.objects == {}  # nothing half-stored in the bucket either
    fake.mode = "ok"
    page = staff_client.get(response["Location"])
    assert page.status_code == 200
    shown = [str(m) for m in page.context["messages"]]
    assert len(shown) == 1 and shown[0].startswith("文件上传失败"), shown
    assert "status" in shown[0]


class CorruptsFromTheSecondUpload(FakeQiniu):
    """Stores the first form upload, damages every later one (mode "corrupt")."""

    def _form_upload(self, ex):
        reply = super()._form_upload(ex)
        self.mode = "corrupt"
        return reply


def test_a_failed_second_upload_takes_the_first_one_back(settings, staff_client, tmp_path):
    with CorruptsFromTheSecondUpload(AK, SK, BUCKET) as fake:
        use_qiniu(settings, fake)
        chapter = ChapterFactory()
        data = chapter_form(chapter, video=SimpleUploadedFile("1.mp4", sample_mp4_bytes(2000)))
        data |= {
            key.replace("-0-", "-1-"): value
            for key, value in data.items()
            if key.startswith("coursesections-0-")
        }
        data["coursesections-1-video"] = SimpleUploadedFile("2.mp4", sample_mp4_bytes(3000))
        data["coursesections-TOTAL_FORMS"] = 2

        response = staff_client.post(change_url(chapter), data)

        assert response.status_code == 302
        assert not CourseSection.objects.exists()
        assert fake.request_types().count("form") == 2
        # the first video went up, then came down again with the rolled-back form
        assert fake.objects == {}
        assert [r["status"] for r in fake.requests_of("delete")] == [200, 200]
    assert fake.errors == []


# --- bad configuration at start -------------------------------------------------------------------


def manage_check(**qiniu: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QINIU_")}
    env.update(DJANGO_SETTINGS_MODULE="luffy_api.settings", LUFFY_IGNORE_DOTENV="1", **qiniu)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"QINIU_ACCESS_KEY": "ak"},
            "Qiniu is half configured: set QINIU_SECRET_KEY, QINIU_BUCKET, QINIU_DOMAIN too",
        ),
        (
            {"QINIU_ACCESS_KEY": "ak", "QINIU_SECRET_KEY": "sk", "QINIU_BUCKET": "b",
             "QINIU_DOMAIN": "v.example.com", "QINIU_LINK_TTL": "an hour"},
            "QINIU_LINK_TTL must be seconds, got 'an hour'",
        ),
    ],
    ids=["half", "bad-ttl"],
)  # fmt: skip
def test_bad_qiniu_configuration_refuses_to_start(env, message):
    result = manage_check(**env)

    assert result.returncode != 0
    assert f"Configuration error: {message}" in result.stderr, result.stderr


def test_full_qiniu_configuration_starts(fake):
    result = manage_check(**qiniu_env(fake))
    assert result.returncode == 0, result.stderr
    assert fake.requests == []  # configuring media does not contact Qiniu
