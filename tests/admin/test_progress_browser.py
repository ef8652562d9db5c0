"""Staff read learners' progress in the admin, in Chromium: a course's completion figures and a
user's progress per course (screenshots in tests/admin/artifacts/)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.course.models import LessonProgress
from tests.factories import ChapterFactory, CourseFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.browser


def test_staff_see_completion_on_the_course_page_and_progress_on_the_users_page(admin_page):
    page = admin_page
    course = CourseFactory(name="Django框架实战")
    lessons = [SectionFactory(chapter=ChapterFactory(course=course), orders=i) for i in range(2)]
    finished, halfway = UserFactory(username="学完了"), UserFactory(username="学一半")
    for learner, done in ((finished, lessons), (halfway, lessons[:1])):
        for lesson in done:
            LessonProgress.objects.create(
                user=learner,
                section=lesson,
                course=course,
                position=600,
                watched=600,
                completed_at=timezone.now(),
            )

    page.goto(f"/admin/course/course/{course.pk}/change/")
    figures = page.locator(".field-learning_figures")
    assert "已开始 2 人,已学完 1 人,平均进度 75%" in figures.inner_text()
    figures.scroll_into_view_if_needed()
    page.shot("course")

    page.goto(f"/admin/user/user/{halfway.pk}/change/")
    progress = page.locator(".field-learning_progress")
    assert "Django框架实战: 1 / 2 (50%)" in progress.inner_text()
    page.shot("user")
