"""Learning progress: the player's reports (PUT and beacon POST), a course's progress and resume
point, 我的课程's progress, and what a refund hides."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.course.models import LessonProgress
from apps.order.services import grant_courses, revoke_courses
from tests.conftest import access_token
from tests.factories import ChapterFactory, CourseFactory, OrderFactory, SectionFactory

pytestmark = pytest.mark.django_db

PROGRESS_URL = "/api/v1/course/progress/"


def report_url(section) -> str:
    return f"{PROGRESS_URL}{section.pk}/"


def grant(user, course, *, order=None) -> None:
    with transaction.atomic():
        grant_courses(user.pk, [course.pk], order=order)


def lessons(course, count: int, **fields):
    chapter = ChapterFactory(course=course)
    return [SectionFactory(chapter=chapter, orders=i, **fields) for i in range(count)]


@pytest.fixture
def course():
    return CourseFactory()


@pytest.fixture
def sections(course):
    return lessons(course, 3)  # each "10:00": 600 s


@pytest.fixture
def owner(user, course):
    grant(user, course)
    return user


def put(client, section, **body):
    return client.put(report_url(section), body, format="json")


def stored(user, section) -> LessonProgress | None:
    return LessonProgress.objects.filter(user=user, section=section).first()


# --- Recording -------------------------------------------------------------------------------


def test_a_first_report_creates_the_learners_row(owner, auth_client, sections):
    response = put(auth_client, sections[0], position=130.7, watched=118.2)

    assert response.status_code == 200
    assert response.json()["code"] == 100
    assert response.json()["result"] == {
        "section": sections[0].pk,
        "position": 130,
        "watched": 118,
        "completed": False,
    }
    row = stored(owner, sections[0])
    assert (row.position, row.watched, row.course_id) == (130, 118, sections[0].chapter.course_id)
    assert row.completed_at is None


def test_watched_never_decreases_but_position_follows_the_last_report(owner, auth_client, sections):
    put(auth_client, sections[0], position=300, watched=250)
    response = put(auth_client, sections[0], position=40, watched=30)

    assert response.json()["result"] == {
        "section": sections[0].pk,
        "position": 40,
        "watched": 250,
        "completed": False,
    }
    assert LessonProgress.objects.count() == 1


def test_watched_is_capped_at_the_lessons_length(owner, auth_client, sections):
    put(auth_client, sections[0], position=10, watched=100)
    response = put(auth_client, sections[0], position=605, watched=5000)

    assert response.json()["result"]["watched"] == 600
    assert stored(owner, sections[0]).watched == 600


def test_a_lesson_completes_at_ninety_percent_and_stays_completed(owner, auth_client, sections):
    assert (
        put(auth_client, sections[0], position=539, watched=539).json()["result"]["completed"]
        is False
    )
    assert (
        put(auth_client, sections[0], position=540, watched=540).json()["result"]["completed"]
        is True
    )
    first = stored(owner, sections[0]).completed_at

    again = put(auth_client, sections[0], position=10, watched=20)

    assert again.json()["result"]["completed"] is True
    assert stored(owner, sections[0]).completed_at == first


def test_a_first_report_at_ninety_percent_completes_at_once(owner, auth_client, sections):
    assert put(auth_client, sections[1], position=590, watched=590).json()["result"]["completed"]


def test_a_lesson_without_a_length_completes_only_by_its_end(owner, auth_client, course):
    (lesson,) = lessons(course, 1, duration="")

    far = put(auth_client, lesson, position=9000, watched=9000)
    assert far.json()["result"] == {
        "section": lesson.pk,
        "position": 9000,
        "watched": 9000,
        "completed": False,
    }
    ended = put(auth_client, lesson, position=9010, watched=9010, ended=True)
    assert ended.json()["result"]["completed"] is True


def test_ended_completes_a_lesson_with_a_length(owner, auth_client, sections):
    response = put(auth_client, sections[2], position=598, watched=100, ended=True)

    assert response.json()["result"]["completed"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"position": -1, "watched": 10},
        {"position": 10, "watched": -0.5},
        {"position": 10, "watched": 86401},
        {"position": 86401, "watched": 10},
        {"position": 631, "watched": 10},  # past the 600 s video's end and its 30 s slack
        {"position": "NaN", "watched": 10},
        {"position": "ten", "watched": 10},
        {"watched": 10},
        {"position": 10},
    ],
)
def test_negative_absurd_or_missing_values_are_a_400_and_store_nothing(
    owner, auth_client, sections, body
):
    put(auth_client, sections[0], position=100, watched=90)

    response = auth_client.put(report_url(sections[0]), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == 400
    row = stored(owner, sections[0])
    assert (row.position, row.watched) == (100, 90)


def test_a_position_within_the_slack_past_the_end_is_kept(owner, auth_client, sections):
    assert put(auth_client, sections[0], position=630, watched=600).status_code == 200


def test_an_unknown_or_hidden_lesson_is_a_404(owner, auth_client, sections):
    hidden = SectionFactory(chapter=sections[0].chapter, is_show=False)

    for url in (f"{PROGRESS_URL}999999/", report_url(hidden)):
        response = auth_client.put(url, {"position": 1, "watched": 1}, format="json")
        assert response.status_code == 404
    assert not LessonProgress.objects.exists()


def test_a_lesson_of_a_course_not_owned_is_a_403_even_a_free_trial(user, auth_client, sections):
    trial = SectionFactory(chapter=sections[0].chapter, free_trial=True)

    for lesson in (sections[0], trial):
        response = put(auth_client, lesson, position=5, watched=5)
        assert response.status_code == 403
        assert response.json()["code"] == 403
    assert not LessonProgress.objects.exists()


def test_without_a_token_nothing_is_recorded(api_client, owner, sections):
    assert put(api_client, sections[0], position=5, watched=5).status_code == 401
    assert not LessonProgress.objects.exists()


# --- Beacon ----------------------------------------------------------------------------------


def test_a_beacon_with_the_token_in_a_text_plain_body_is_recorded(owner, sections):
    body = json.dumps({"token": access_token(owner), "position": 42, "watched": 40})

    response = Client().post(report_url(sections[0]), body, content_type="text/plain;charset=UTF-8")

    assert response.status_code == 200
    assert response.json()["result"]["watched"] == 40
    assert stored(owner, sections[0]).position == 42


def test_a_beacon_with_a_json_body_is_recorded(owner, sections):
    body = {"token": access_token(owner), "position": 12, "watched": 11, "ended": False}

    response = APIClient().post(report_url(sections[0]), body, format="json")

    assert response.status_code == 200
    assert stored(owner, sections[0]).watched == 11


@pytest.mark.parametrize("token", [None, "", "forged.token.value", 42])
def test_a_beacon_without_a_valid_token_is_refused(owner, sections, token):
    body = {"position": 12, "watched": 11} | ({} if token is None else {"token": token})

    response = APIClient().post(report_url(sections[0]), body, format="json")

    assert response.status_code == 401
    assert not LessonProgress.objects.exists()


def test_a_session_cookie_does_not_authenticate_a_beacon(owner, sections):
    """CSRF-safe: nothing here is authenticated by a cookie a cross-site form would carry."""
    browser = Client()
    browser.force_login(owner)

    response = browser.post(
        report_url(sections[0]),
        json.dumps({"position": 5, "watched": 5}),
        content_type="text/plain",
    )

    assert response.status_code == 401
    assert not LessonProgress.objects.exists()


def test_the_token_in_a_put_body_is_not_accepted(owner, sections):
    body = {"token": access_token(owner), "position": 5, "watched": 5}

    assert APIClient().put(report_url(sections[0]), body, format="json").status_code == 401


# --- Reading a course ------------------------------------------------------------------------


def progress_of(client, course):
    return client.get(PROGRESS_URL, {"course": course.pk})


def test_a_course_lists_every_lesson_in_order_with_the_percentage(
    owner, auth_client, course, sections
):
    put(auth_client, sections[0], position=600, watched=600)
    put(auth_client, sections[1], position=130, watched=118)

    response = progress_of(auth_client, course)

    assert response.status_code == 200
    result = response.json()["result"]
    assert result["course"] == course.pk
    assert result["progress"] == 33  # one of three lessons completed
    assert result["completed_lessons"] == 1
    assert [
        (s["section"], s["position"], s["watched"], s["completed"]) for s in result["lessons"]
    ] == [
        (sections[0].pk, 600, 600, True),
        (sections[1].pk, 130, 118, False),
        (sections[2].pk, 0, 0, False),
    ]
    assert result["resume_section"] == {
        "section": sections[1].pk,
        "name": sections[1].name,
        "position": 130,
    }


def test_nothing_started_resumes_the_first_lesson_at_zero(owner, auth_client, course, sections):
    result = progress_of(auth_client, course).json()["result"]

    assert result["progress"] == 0
    assert result["resume_section"]["section"] == sections[0].pk
    assert result["resume_section"]["position"] == 0


def test_after_finishing_a_lesson_the_next_unfinished_one_resumes(
    owner, auth_client, course, sections
):
    put(auth_client, sections[2], position=100, watched=100)
    LessonProgress.objects.update(
        updated_at=LessonProgress.objects.get().updated_at - timedelta(hours=1)
    )
    put(auth_client, sections[1], position=600, watched=600, ended=True)

    resume = progress_of(auth_client, course).json()["result"]["resume_section"]

    assert (resume["section"], resume["position"]) == (sections[2].pk, 100)


def test_a_finished_course_resumes_at_the_start(owner, auth_client, course, sections):
    for lesson in sections:
        put(auth_client, lesson, position=600, watched=600)

    result = progress_of(auth_client, course).json()["result"]

    assert result["progress"] == 100
    assert result["resume_section"]["section"] == sections[0].pk


def test_reading_a_course_not_owned_unknown_or_malformed(user, auth_client, course, sections):
    assert progress_of(auth_client, course).status_code == 403
    assert auth_client.get(PROGRESS_URL, {"course": 999999}).status_code == 404
    assert auth_client.get(PROGRESS_URL, {"course": "x"}).status_code == 400
    assert auth_client.get(PROGRESS_URL).status_code == 400
    assert APIClient().get(PROGRESS_URL, {"course": course.pk}).status_code == 401


# --- When access ends ------------------------------------------------------------------------


def test_a_refund_hides_progress_and_records_nothing_until_bought_again(
    user, auth_client, course, sections
):
    order = OrderFactory(user=user, paid=True)
    grant(user, course, order=order)
    put(auth_client, sections[0], position=200, watched=180)
    with transaction.atomic():
        revoke_courses(order, [course.pk])

    assert put(auth_client, sections[0], position=300, watched=290).status_code == 403
    assert progress_of(auth_client, course).status_code == 403
    row = stored(user, sections[0])
    assert (row.position, row.watched) == (200, 180)  # kept, unchanged

    grant(user, course)
    lesson = progress_of(auth_client, course).json()["result"]["lessons"][0]
    assert (lesson["position"], lesson["watched"]) == (200, 180)


# --- 我的课程 ---------------------------------------------------------------------------------


def test_my_courses_show_progress_and_the_lesson_to_resume(owner, auth_client, course, sections):
    other = CourseFactory()
    lessons(other, 2)
    grant(owner, other)
    put(auth_client, sections[0], position=600, watched=600)
    put(auth_client, sections[1], position=75, watched=70)

    results = auth_client.get(reverse("user-courses")).json()["results"]

    by_id = {c["id"]: c for c in results}
    assert by_id[course.pk]["progress"] == 33
    assert by_id[course.pk]["resume_section"] == {
        "section": sections[1].pk,
        "name": sections[1].name,
        "position": 75,
    }
    assert by_id[other.pk]["progress"] == 0
    assert by_id[other.pk]["resume_section"]["position"] == 0


def test_an_owned_course_without_lessons_has_no_resume_section(owner, auth_client, course):
    (mine,) = auth_client.get(reverse("user-courses")).json()["results"]

    assert (mine["progress"], mine["resume_section"]) == (0, None)


# --- Queries ---------------------------------------------------------------------------------

# user + section (chapter joined) + ownership + the UPDATE + the row read back
REPORT_QUERIES = 5
# user + ownership + the course's lessons left-joined to the learner's rows
COURSE_QUERIES = 3


@pytest.mark.parametrize("count", [2, 40])
def test_a_report_and_a_course_read_take_fixed_queries(
    owner, auth_client, course, count, django_assert_num_queries
):
    many = lessons(course, count)
    for lesson in many:
        put(auth_client, lesson, position=10, watched=10)

    with django_assert_num_queries(REPORT_QUERIES):
        assert put(auth_client, many[-1], position=20, watched=20).status_code == 200
    with django_assert_num_queries(COURSE_QUERIES):
        result = progress_of(auth_client, course).json()["result"]
    assert len(result["lessons"]) == count


def test_the_report_is_one_write_statement(owner, auth_client, sections, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    put(auth_client, sections[0], position=10, watched=10)
    with CaptureQueriesContext(connection) as queries:
        put(auth_client, sections[0], position=20, watched=20)

    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1
    assert writes[0].lstrip().upper().startswith("UPDATE")


# user + count + the page (teacher joined) + section previews + ownership + the page's progress
MY_COURSES_QUERIES = 6


@pytest.mark.parametrize("owned", [1, 6])
def test_my_courses_take_fixed_queries_however_many_courses(
    user, auth_client, owned, django_assert_num_queries
):
    for _ in range(owned):
        course = CourseFactory()
        for lesson in lessons(course, 3):
            LessonProgress.objects.create(
                user=user, section=lesson, course=course, position=5, watched=5
            )
        grant(user, course)

    with django_assert_num_queries(MY_COURSES_QUERIES):
        results = auth_client.get(reverse("user-courses")).json()["results"]
    assert len(results) == owned
