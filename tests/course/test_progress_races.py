"""Two tabs (or a tab and its beacon) reporting the same lesson at once, on MariaDB's real
concurrency: one row, the larger watched value, never an error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections, transaction

from apps.course.models import LessonProgress
from apps.course.services import record_progress
from apps.order.services import grant_courses
from tests.factories import ChapterFactory, CourseFactory, SectionFactory, UserFactory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]

TABS = 8


def test_first_reports_racing_on_one_lesson_keep_one_row_and_the_largest_watched():
    user = UserFactory()
    course = CourseFactory()
    lessons = [SectionFactory(chapter=ChapterFactory(course=course)) for _ in range(5)]
    with transaction.atomic():
        grant_courses(user.pk, [course.pk], order=None)
    for lesson in lessons:
        start = threading.Barrier(TABS)

        def report(watched: int, lesson=lesson, start=start):
            try:
                start.wait()
                return record_progress(user, lesson.pk, position=watched, watched=watched)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=TABS) as pool:
            states = list(pool.map(report, [100 + 10 * i for i in range(TABS)]))

        assert all(state.section == lesson.pk for state in states)
        rows = LessonProgress.objects.filter(user=user, section=lesson)
        assert rows.count() == 1
        assert rows.get().watched == 100 + 10 * (TABS - 1)
