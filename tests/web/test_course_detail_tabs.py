"""The course page as course sites show it: 课程介绍 (the staff-written description, cleaned)
and 课程目录 tabs, and the teacher card leading to the teacher's page with their courses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.course.models import Course, CourseSection

pytestmark = pytest.mark.browser


def test_the_description_and_the_chapters_are_tabs_and_the_teacher_links_to_their_courses(
    page: Page,
):
    course = Course.objects.get(name="Django框架实战")
    Course.objects.filter(pk=course.pk).update(
        description="<h2>课程简介</h2><p>从零到上线。</p><script>window.hacked = 1</script>"
        '<p onclick="window.hacked = 2">点我</p>'
    )
    page.goto(f"/course/{course.pk}")

    intro = page.locator("[data-test=description]")
    expect(page.get_by_role("tab", name="课程介绍")).to_have_attribute("aria-selected", "true")
    expect(intro.locator("h2")).to_have_text("课程简介")
    expect(intro).to_contain_text("从零到上线。")
    page.get_by_text("点我").click()
    assert page.evaluate("window.hacked") is None
    page.shots.take("intro")

    page.get_by_role("tab", name="课程目录").click()
    sections = CourseSection.objects.filter(chapter__course=course)
    expect(page.locator("[data-test=section]")).to_have_count(sections.count())
    expect(intro).to_be_hidden()
    page.shots.take("chapters")

    teacher = course.teacher
    page.locator("[data-test=teacher-link]").click()
    expect(page).to_have_url(re.compile(f"/teacher/{teacher.pk}$"))
    expect(page.locator("h1")).to_have_text(teacher.name)
    expect(page).to_have_title(f"{teacher.name} - 路飞学城")
    cards = page.locator("[data-test=course-card]")
    expect(cards).to_have_count(Course.objects.visible().filter(teacher=teacher).count())
    expect(cards.filter(has_text=course.name)).to_have_count(1)
    page.shots.take("teacher")
    cards.filter(has_text=course.name).locator("a.name").click()
    expect(page).to_have_url(re.compile(f"/course/{course.pk}$"))
