"""Learning progress in Chromium (issue 26): a lesson watched resumes at its second after a
reload, a finished lesson is marked and moves the course's percentage, 我的课程's 继续学习
opens the lesson to resume at its second, closing or hiding the page still records (a beacon),
and a trial of a course not owned records nothing. Each waits on the server's row, not on a
clock.

The demo lesson video is one real 6-second MP4, so "watching a while" here is ~4 s of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from django.db import transaction
from playwright.sync_api import Page, expect

from apps.course.models import Course, CourseSection, LessonProgress
from apps.course.services import record_progress
from apps.order.services import grant_courses
from tests.factories import UserFactory
from tests.web.conftest import log_in

pytestmark = pytest.mark.browser

COURSE = "Django框架实战"
VIDEO = "video[data-test=player]"
# The playing video's second (or null before it has one).
CURRENT_TIME = f"() => {{ const v = document.querySelector('{VIDEO}'); return v && v.currentTime }}"


def wait_for(check: Callable[[], object], *, timeout: float = 20.0, what: str = "") -> object:
    """Poll the server's state until `check` answers something truthy (a loaded machine may
    take a while; a fixed sleep would be too short there and wasted elsewhere)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what or check}")


def row(user, section) -> LessonProgress | None:
    return LessonProgress.objects.filter(user=user, section=section).first()


@pytest.fixture
def course(shop) -> Course:
    return Course.objects.get(name=COURSE)


@pytest.fixture
def lessons(course) -> list[CourseSection]:
    return list(
        CourseSection.objects.filter(chapter__course=course, is_show=True).order_by(
            "chapter__chapter", "orders", "id"
        )
    )


@pytest.fixture
def learner(course):
    user = UserFactory()
    with transaction.atomic():
        grant_courses(user.pk, [course.pk], order=None)
    return user


@pytest.fixture(params=["page", "phone"])
def screen(request) -> Page:
    """The desktop page, then the phone."""
    return request.getfixturevalue(request.param)


def section_row(page: Page, section: CourseSection):
    return page.locator("[data-test=section]", has_text=section.name)


def play_until(page: Page, section: CourseSection, second: float) -> None:
    section_row(page, section).get_by_role("button", name="播放").click()
    expect(page.locator(VIDEO)).to_have_attribute("data-section", str(section.pk))
    page.wait_for_function(f"() => ({CURRENT_TIME})() >= {second}")


def test_a_watched_lesson_resumes_at_its_second_after_a_reload(screen: Page, learner, lessons):
    log_in(screen, learner)
    screen.goto(f"/learn/{lessons[0].chapter.course_id}")
    # Paused at 3 s of the 6 s demo lesson: well short of completion (90 % of its length).
    play_until(screen, lessons[0], 3)
    screen.locator(VIDEO).evaluate("(v) => v.pause()")  # the learner pauses: a report

    saved = wait_for(
        lambda: (r := row(learner, lessons[0])) and r.position >= 3 and r.watched >= 2 and r,
        what="the paused lesson's row",
    )
    assert saved.position <= 6 and saved.watched <= saved.position
    assert saved.completed_at is None

    screen.reload()
    expect(screen.locator(VIDEO)).to_have_attribute("data-section", str(lessons[0].pk))
    screen.wait_for_function(f"() => ({CURRENT_TIME})() >= {saved.position}")
    assert screen.evaluate(CURRENT_TIME) < saved.position + 1
    expect(section_row(screen, lessons[0]).locator("[data-test=lesson-watched]")).to_contain_text(
        "已学"
    )
    screen.shots.take("resumed")


def test_a_finished_lesson_is_marked_and_moves_the_course_percentage(page: Page, learner, lessons):
    log_in(page, learner)
    page.goto(f"/learn/{lessons[0].chapter.course_id}")
    percentage = page.locator("[data-test=course-progress] [role=progressbar]")
    expect(percentage).to_have_attribute("aria-valuenow", "0")
    play_until(page, lessons[0], 0.5)
    page.locator(VIDEO).evaluate("(v) => { v.currentTime = v.duration - 1 }")

    wait_for(
        lambda: (r := row(learner, lessons[0])) and r.completed_at is not None,
        what="the finished lesson's completion",
    )
    expect(section_row(page, lessons[0]).locator("[data-test=lesson-done]")).to_have_text(
        "✓ 已学完"
    )
    expect(percentage).to_have_attribute("aria-valuenow", str(100 // len(lessons)))
    expect(page.locator("[data-test=course-progress]")).to_contain_text(
        f"已学完 1 / {len(lessons)} 课时"
    )
    page.shots.take("completed")


def test_my_courses_continue_opens_the_lesson_to_resume_at_its_second(
    screen: Page, learner, lessons
):
    record_progress(learner, lessons[0].pk, position=6, watched=6, ended=True)
    record_progress(learner, lessons[1].pk, position=3, watched=3)
    log_in(screen, learner)
    screen.goto("/my/courses")
    tile = screen.locator("[data-test=course-tile]", has_text=COURSE)
    expect(tile.get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", str(100 // len(lessons))
    )
    screen.shots.take("my-courses")
    tile.get_by_role("button", name="继续学习").click()

    expect(screen).to_have_url(
        re.compile(f"/learn/{lessons[1].chapter.course_id}\\?section={lessons[1].pk}$")
    )
    expect(screen.locator(".now-playing")).to_contain_text(lessons[1].name)
    screen.wait_for_function(f"() => ({CURRENT_TIME})() >= 3")
    assert screen.evaluate(CURRENT_TIME) < 4
    expect(section_row(screen, lessons[0]).locator("[data-test=lesson-done]")).to_be_visible()


def test_the_home_page_shows_courses_in_progress_to_their_learner_only(
    page: Page, learner, lessons
):
    asked = []
    page.on("request", lambda r: "/user/courses/" in r.url and asked.append(r.url))
    page.goto("/")
    expect(page.locator("[data-test=row-free] [data-test=course-tile]").first).to_be_visible()
    expect(page.locator("[data-test=row-learning]")).to_have_count(0)
    assert asked == []  # the anonymous home page asks nothing more

    record_progress(learner, lessons[1].pk, position=3, watched=3)
    log_in(page, learner)
    page.goto("/")
    row = page.locator("[data-test=row-learning]")
    expect(row.locator("[data-test=course-tile]")).to_have_count(1)
    expect(row).to_contain_text(COURSE)
    row.locator("[data-test=course-tile]").click()
    expect(page).to_have_url(
        re.compile(f"/learn/{lessons[1].chapter.course_id}\\?section={lessons[1].pk}$")
    )


def test_an_owner_plays_a_lesson_from_the_course_page_on_the_study_page(
    page: Page, learner, lessons
):
    log_in(page, learner)
    page.goto(f"/course/{lessons[2].chapter.course_id}")
    expect(page.get_by_role("button", name="继续学习")).to_be_visible()
    page.get_by_role("tab", name="课程目录").click()
    section_row(page, lessons[2]).get_by_role("button", name="播放").click()
    expect(page.locator(".now-playing")).to_contain_text(lessons[2].name)
    expect(page.locator(VIDEO)).to_have_attribute("data-section", str(lessons[2].pk))


def test_closing_the_page_while_a_lesson_plays_still_records_it(page: Page, learner, lessons):
    # A page of its own: the test closes it (the fixture's page takes screenshots at the end).
    closing = page.context.new_page()
    log_in(closing, learner)
    closing.goto(f"/learn/{lessons[0].chapter.course_id}")
    play_until(closing, lessons[0], 2.5)
    assert row(learner, lessons[0]) is None  # nothing sent yet: no pause, no 15 s

    closing.close(run_before_unload=True)

    saved = wait_for(lambda: row(learner, lessons[0]), what="the beacon's row")
    assert saved.position >= 2 and saved.watched >= 2


def test_hiding_the_page_sends_a_beacon(page: Page, learner, lessons):
    sent = []
    page.on("request", lambda r: "/course/progress/" in r.url and sent.append(r))
    log_in(page, learner)
    page.goto(f"/learn/{lessons[0].chapter.course_id}")
    play_until(page, lessons[0], 2)
    page.evaluate(
        "() => { Object.defineProperty(document, 'visibilityState', { value: 'hidden' });"
        " document.dispatchEvent(new Event('visibilitychange')) }"
    )

    saved = wait_for(lambda: row(learner, lessons[0]), what="the beacon's row")
    assert saved.position >= 2
    beacon = next(r for r in sent if r.method == "POST")
    assert beacon.headers.get("authorization") is None  # the token rides in the body


def test_a_trial_of_a_course_not_owned_records_nothing(page: Page, course, lessons):
    visitor = UserFactory()
    reports = []
    page.on("request", lambda r: "/course/progress/" in r.url and reports.append(r.url))
    trial = next(s for s in lessons if s.free_trial)
    log_in(page, visitor)
    page.goto(f"/learn/{course.pk}")
    play_until(page, trial, 2)
    page.locator(VIDEO).evaluate("(v) => v.pause()")
    page.goto("/my/courses")  # leaving the page sends nothing either
    expect(page.get_by_text("还没有课程")).to_be_visible()

    assert reports == []
    assert not LessonProgress.objects.filter(user=visitor).exists()
