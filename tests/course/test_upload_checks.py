"""The admin refuses a section "video" that is a page, and a cover "image" that is not an image,
with the reason next to the field and nothing saved."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.course.models import Course, CourseSection
from tests.course.test_media_storage import change_url, chapter_form
from tests.factories import ChapterFactory, CourseFactory
from tests.support.qiniu import sample_mp4_bytes
from tests.utils.test_uploads import PAGE, picture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [("evil.html", PAGE, "只能上传视频文件"), ("evil.mp4", PAGE, "文件内容不是")],
)
def test_a_page_uploaded_as_a_section_video_is_refused_in_the_form(
    staff_client, local_media, name, data, reason
):
    chapter = ChapterFactory()
    form = chapter_form(chapter, video=SimpleUploadedFile(name, data, content_type="video/mp4"))

    response = staff_client.post(change_url(chapter), form)

    assert response.status_code == 200  # the form again
    assert reason in response.content.decode()
    assert not CourseSection.objects.exists()
    assert not list(local_media.rglob("*.*"))


def test_a_real_video_is_still_accepted(staff_client, local_media):
    chapter = ChapterFactory()
    video = SimpleUploadedFile("lesson.mp4", sample_mp4_bytes(4000), content_type="video/mp4")

    response = staff_client.post(change_url(chapter), chapter_form(chapter, video=video))

    assert response.status_code == 302
    assert chapter.coursesections.get().video.name.endswith(".mp4")


def course_form(course: Course, **fields) -> dict:
    return {
        "name": course.name,
        "course_type": course.course_type,
        "brief": "",
        "level": 0,
        "status": 0,
        "pub_date": "2026-01-02",
        "period": 7,
        "price": "10.00",
        "discount_type": "",
        "orders": 0,
        "is_show": "on",
        "coursechapters-TOTAL_FORMS": 0,
        "coursechapters-INITIAL_FORMS": 0,
        "coursechapters-MIN_NUM_FORMS": 0,
        "coursechapters-MAX_NUM_FORMS": 1000,
        **fields,
    }


@pytest.mark.parametrize(
    ("name", "data"),
    [("cover.html", PAGE), ("cover.svg", b"<svg onload=alert(1)>"), ("cover.jpg", picture("PNG"))],
)
def test_a_cover_that_is_no_matching_image_is_refused_in_the_form(staff_client, name, data):
    course = CourseFactory(name="Before")
    form = course_form(course, name="After", course_img=SimpleUploadedFile(name, data))

    response = staff_client.post(f"/admin/course/course/{course.pk}/change/", form)

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    course.refresh_from_db()
    assert (course.name, course.course_img.name) == ("Before", "")


def test_a_real_cover_is_still_accepted(staff_client):
    course = CourseFactory()
    form = course_form(course, course_img=SimpleUploadedFile("cover.png", picture("PNG")))

    response = staff_client.post(f"/admin/course/course/{course.pk}/change/", form)

    assert response.status_code == 302, response.context and response.context["errors"]
    course.refresh_from_db()
    assert course.course_img.name.startswith("courses/cover")
