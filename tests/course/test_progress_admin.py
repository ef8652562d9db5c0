"""Staff see how learners do: completion figures on a course's admin page, and each course's
progress on a user's admin page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.course import selectors
from apps.course.models import LessonProgress
from tests.factories import ChapterFactory, CourseFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def progress(user, section, *, watched: int, completed: bool) -> LessonProgress:

    return LessonProgress.objects.create(
        user=user,
        section=section,
        course_id=section.chapter.course_id,
        position=watched,
        watched=watched,
        completed_at=timezone.now() if completed else None,
    )


@pytest.fixture
def learners():
    """A course of four lessons: one learner finished it, one is halfway, one never started;
    a lesson staff hid later does not count."""
    course = CourseFactory(name="Django 入门")
    chapter = ChapterFactory(course=course)
    lessons = [SectionFactory(chapter=chapter, orders=i) for i in range(4)]
    hidden = SectionFactory(chapter=chapter, is_show=False)
    done, halfway, _idle = UserFactory(), UserFactory(), UserFactory()
    for lesson in lessons:
        progress(done, lesson, watched=600, completed=True)
    progress(done, hidden, watched=600, completed=True)
    for lesson in lessons[:2]:
        progress(halfway, lesson, watched=600, completed=True)
    progress(halfway, lessons[2], watched=30, completed=False)
    return course, done, halfway


def test_completion_counts_learners_who_started_and_finished(learners):
    course, _done, _halfway = learners

    figures = selectors.course_completion(course.pk)

    assert (figures.lessons, figures.started, figures.completed) == (4, 2, 1)
    assert figures.average_percent == 75  # (100 + 50) / 2


def test_a_course_without_learners_has_zero_figures():
    course = CourseFactory()
    SectionFactory(chapter=ChapterFactory(course=course))

    figures = selectors.course_completion(course.pk)

    assert (figures.started, figures.completed, figures.average_percent) == (0, 0, 0)


def test_the_course_admin_page_shows_the_figures(staff_client, learners):
    course, _done, _halfway = learners

    page = staff_client.get(reverse("admin:course_course_change", args=[course.pk]))

    assert page.status_code == 200
    assert "已开始 2 人,已学完 1 人,平均进度 75%" in page.content.decode()


def test_the_user_admin_page_lists_progress_per_course(staff_client, learners):
    _course, _done, halfway = learners

    page = staff_client.get(reverse("admin:user_user_change", args=[halfway.pk]))

    assert page.status_code == 200
    assert "Django 入门: 2 / 4 (50%)" in page.content.decode()


def test_a_user_without_progress_shows_a_dash(staff_client):
    learner = UserFactory()

    page = staff_client.get(reverse("admin:user_user_change", args=[learner.pk]))

    assert page.status_code == 200
    assert "各课程进度" in page.content.decode()


def test_the_shop_wide_figures_count_learners_once_and_average_every_course(learners):
    _course, _done, halfway = learners
    other = ChapterFactory(course=CourseFactory(name="Go 入门"))
    second = [SectionFactory(chapter=other, orders=i) for i in range(2)]
    progress(halfway, second[0], watched=600, completed=True)

    figures = selectors.learning_completion()

    assert (figures.lessons, figures.started, figures.completed) == (2, 2, 1)
    assert figures.average_percent == 67  # (100 + 50 + 50) / 3


def test_the_shop_wide_figures_are_zero_without_learners():
    figures = selectors.learning_completion()

    assert (figures.started, figures.completed, figures.average_percent) == (0, 0, 0)


def test_the_admin_front_page_shows_the_learning_figures(staff_client, learners):
    page = staff_client.get("/admin/").content.decode()

    block = page.split('id="learning-dashboard"')[1].split("</section>")[0]
    assert "学习情况" in block
    assert "已开始 2 人,已学完 1 人,平均进度 75%" in block


def test_staff_who_may_not_view_courses_see_no_learning_figures(learners):
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    assert 'id="learning-dashboard"' not in client.get("/admin/").content.decode()
