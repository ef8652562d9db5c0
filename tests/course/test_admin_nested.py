"""The course page: chapters with their sections on one page, computed counters, price columns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.course.models import Course, CourseSection
from tests.factories import (
    CategoryFactory,
    ChapterFactory,
    CourseFactory,
    SectionFactory,
    TeacherFactory,
)

from .test_admin import course_form

pytestmark = pytest.mark.django_db


def test_staff_adds_a_course_with_a_chapter_and_its_sections_in_one_post(staff_client):
    data = course_form(CategoryFactory(), TeacherFactory(), students=999, sections=999)
    prefix = "coursechapters-0-coursesections"
    data |= {f"{prefix}-TOTAL_FORMS": 2}
    for i, shown in enumerate(["on", ""]):
        data |= {
            f"{prefix}-{i}-name": f"课时{i + 1}",
            f"{prefix}-{i}-section_type": 2,
            f"{prefix}-{i}-section_link": f"videos/{i}.mp4",
            f"{prefix}-{i}-duration": "01:00",
            f"{prefix}-{i}-orders": i,
            f"{prefix}-{i}-is_show": shown,
        }

    response = staff_client.post("/admin/course/course/add/", data)

    assert response.status_code == 302, response.context and response.context["errors"]
    course = Course.objects.get(name="Added in admin")
    first = course.coursechapters.get(chapter=1)
    assert list(first.coursesections.values_list("name", flat=True)) == ["课时1", "课时2"]
    # Counters are computed, not taken from the form.
    assert (course.students, course.sections, course.pub_sections) == (0, 2, 1)


def test_the_course_list_shows_the_current_price_and_the_discount_window(staff_client):
    CourseFactory(name="打折课", discounted=True)
    CourseFactory(name="原价课", price=Decimal("88.00"))

    response = staff_client.get("/admin/course/course/")

    text = response.text
    assert "当前售价" in text and "优惠期" in text
    assert "¥49.90" in text and "进行中" in text
    assert "¥88.00" in text


def test_the_section_page_shows_the_video_size_for_people(staff_client):
    section = SectionFactory()
    # As recorded by an upload (save() measures the file; this one is only pretended).
    CourseSection.objects.filter(pk=section.pk).update(video_size=5 * 1024 * 1024 + 300)
    chapter = section.chapter

    response = staff_client.get(f"/admin/course/course/{chapter.course_id}/change/")

    assert "5.0\xa0MB (5,243,180 字节)" in response.text


def test_chapters_and_sections_render_nested_on_the_course_page(staff_client):
    chapter = ChapterFactory(name="第一章")
    SectionFactory(chapter=chapter, name="第一节")

    response = staff_client.get(f"/admin/course/course/{chapter.course_id}/change/")

    assert "第一章" in response.text and "第一节" in response.text
    assert "coursechapters-0-coursesections-TOTAL_FORMS" in response.text
