"""A section's duration read from its MP4 (`moov/mvhd`), on a real file and on built boxes."""

from __future__ import annotations

import io
import struct
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.course.demo_media import DEMO_VIDEO_FILE
from apps.course.mp4 import ImplausibleDuration, format_duration, mp4_duration
from tests.factories import SectionFactory

LESSON = DEMO_VIDEO_FILE  # the demo lesson: 6 s, H.264, 107 KiB


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mvhd(version: int, timescale: int, duration: int) -> bytes:
    if version == 1:
        body = struct.pack(">B3xQQIQ", 1, 0, 0, timescale, duration)
    else:
        body = struct.pack(">B3xIIII", 0, 0, 0, timescale, duration)
    return box(b"mvhd", body + b"\0" * 80)


def test_the_real_lesson_lasts_six_seconds():
    with LESSON.open("rb") as f:
        assert mp4_duration(f) == timedelta(seconds=6)


def test_a_version_1_header_after_a_large_mdat_is_found():
    data = box(b"ftyp", b"isom\0\0\0\0") + box(b"mdat", b"\0" * 5000)
    data += box(b"moov", mvhd(1, 90_000, 90_000 * 3723))

    length = mp4_duration(io.BytesIO(data))

    assert length == timedelta(seconds=3723)
    assert format_duration(length) == "1:02:03"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an mp4 file at all",
        box(b"ftyp", b"isom") + box(b"moov", box(b"trak", b"")),  # no mvhd
        box(b"moov", mvhd(0, 0, 100)),  # timescale 0
        struct.pack(">I4s", 4, b"moov") + b"junk",  # size smaller than its header
        box(b"moov", b"\0\0\0\x10mvhd\0\0"),  # cut short
    ],
)
def test_anything_else_has_no_duration(data):
    assert mp4_duration(io.BytesIO(data)) is None


@pytest.mark.django_db
def test_uploading_an_mp4_sets_the_sections_duration_and_size():
    video = SimpleUploadedFile("lesson.mp4", LESSON.read_bytes(), content_type="video/mp4")

    section = SectionFactory(duration="99:00", video=video)

    section.refresh_from_db()
    assert section.duration == "00:06"
    assert section.video_size == LESSON.stat().st_size


@pytest.mark.django_db
def test_a_video_that_is_not_an_mp4_keeps_the_typed_duration():
    video = SimpleUploadedFile("talk.webm", b"\x1a\x45\xdf\xa3 webm", content_type="video/webm")

    section = SectionFactory(duration="12:34", video=video)

    section.refresh_from_db()
    assert section.duration == "12:34"


@pytest.mark.parametrize(
    ("version", "timescale", "duration"),
    [
        (1, 1, 2**63),  # 10**19 seconds: past what timedelta holds (the OverflowError)
        (1, 1000, 2**40),  # 35 years
        (0, 1, 2**32 - 2),  # 136 years in a version 0 header
        (0, 1, 24 * 3600 + 1),
    ],
)
def test_a_header_stating_more_than_a_day_is_refused_as_implausible(version, timescale, duration):
    data = box(b"moov", mvhd(version, timescale, duration))

    with pytest.raises(ImplausibleDuration):
        mp4_duration(io.BytesIO(data))


def test_a_day_exactly_is_still_a_duration():
    data = box(b"moov", mvhd(1, 1, 24 * 3600))
    assert mp4_duration(io.BytesIO(data)) == timedelta(days=1)


@pytest.mark.django_db
def test_the_admin_refuses_a_crafted_mp4_with_a_form_error_not_a_500(client):
    """Before: OverflowError in mp4_duration, a 500 page for staff."""
    from tests.factories import ChapterFactory, UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    chapter = ChapterFactory()
    crafted = box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", mvhd(1, 1, 2**63))
    data = {
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
        "coursesections-0-name": "Crafted",
        "coursesections-0-section_type": 2,
        "coursesections-0-duration": "10:00",
        "coursesections-0-orders": 1,
        "coursesections-0-is_show": "on",
        "coursesections-0-video": SimpleUploadedFile("x.mp4", crafted, content_type="video/mp4"),
    }

    response = client.post(f"/admin/course/coursechapter/{chapter.pk}/change/", data)

    assert response.status_code == 200
    assert "时长超过 24 小时" in response.content.decode()
    assert not chapter.coursesections.filter(name="Crafted").exists()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("05:07", 307),
        ("1:02:03", 3723),
        ("10:00", 600),
        ("", None),
        ("00:00", None),
        ("约5分钟", None),
        ("5", None),
        ("１０:００", None),  # full-width digits are not a length
        ("1:2:3:4", None),
    ],
)
def test_a_typed_duration_gives_the_lessons_length_in_seconds(text, seconds):
    from apps.course.mp4 import duration_seconds

    assert duration_seconds(text) == seconds
