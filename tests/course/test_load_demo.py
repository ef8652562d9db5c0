from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from apps.course.management.commands.load_demo import COURSES, DEMO_USER, STAFF_USER
from apps.course.models import Course, CourseCategory, CourseChapter, CourseSection, Teacher

from .helpers import CATEGORY_URL, CHAPTER_URL, LIST_URL

pytestmark = pytest.mark.django_db

LOGIN_URL = "/api/v1/user/user/mul_login/"
MODELS = [CourseCategory, Teacher, Course, CourseChapter, CourseSection]


def load() -> str:
    out = StringIO()
    call_command("load_demo", "--force", stdout=out)  # the suite runs with DEBUG off
    return out.getvalue()


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in [*MODELS, get_user_model()]}


def test_runs_twice_without_duplicating_rows():
    load()
    first = counts()
    load()

    assert counts() == first
    assert first == {
        "CourseCategory": 5,
        "Teacher": 4,
        "Course": len(COURSES),
        "CourseChapter": len(COURSES) * 3,
        "CourseSection": len(COURSES) * 9,
        "User": 2,
    }


def test_rerun_keeps_ids_and_restores_edited_rows():
    load()
    course = Course.objects.get(name="Django框架实战")
    ids = {model.__name__: set(model.objects.values_list("pk", flat=True)) for model in MODELS}
    Course.objects.filter(pk=course.pk).update(price=1)

    load()

    assert {m.__name__: set(m.objects.values_list("pk", flat=True)) for m in MODELS} == ids
    course.refresh_from_db()
    assert str(course.price) == "299.00"


def test_reports_what_it_loaded():
    output = load()

    assert f"{len(COURSES)} courses" in output
    assert DEMO_USER["username"] in output
    assert STAFF_USER["username"] in output


def test_catalog_is_visible_through_the_api(api_client):
    load()

    categories = api_client.get(CATEGORY_URL).json()["result"]
    courses = api_client.get(LIST_URL, {"size": 50}).json()

    assert len(categories) == 5
    assert courses["count"] == len(COURSES)
    assert {c["course_type"] for c in courses["results"]} == {"free", "actual", "light"}
    for course_type in ("free", "actual", "light"):
        assert api_client.get(LIST_URL, {"course_type": course_type}).json()["count"] >= 2
    discounted = [c for c in courses["results"] if c["real_price"] != c["price"]]
    assert len(discounted) >= 2
    assert all(c["discount_type"] for c in discounted)
    assert all(float(c["real_price"]) < float(c["price"]) for c in discounted)
    for course in courses["results"]:
        assert len(course["section_list"]) == 4
        assert [bool(s["section_link"]) for s in course["section_list"]] == [
            True,
            False,
            False,
            False,
        ]
        tree = api_client.get(CHAPTER_URL, {"course": course["id"]}).json()
        assert [c["chapter"] for c in tree] == [1, 2, 3]


def test_free_courses_cost_nothing(api_client):
    load()

    free = api_client.get(LIST_URL, {"course_type": "free"}).json()["results"]

    assert {c["real_price"] for c in free} == {"0.00"}


@pytest.mark.parametrize(
    ("spec", "staff"), [(DEMO_USER, False), (STAFF_USER, True)], ids=["demo", "staff"]
)
@pytest.mark.parametrize("login_field", ["username", "mobile"])
def test_users_can_log_in(api_client, spec, staff, login_field):
    load()
    load()  # the password survives a rerun

    response = api_client.post(
        LOGIN_URL,
        {"username": spec[login_field], "password": spec["password"]},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == 100
    assert body["username"] == spec["username"]
    assert body["token"]
    user = get_user_model().objects.get(username=spec["username"])
    assert user.is_staff is staff
    assert user.is_superuser is staff


def test_wrong_password_is_refused(api_client):
    load()

    response = api_client.post(
        LOGIN_URL, {"username": STAFF_USER["username"], "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == 400


@pytest.mark.parametrize(("spec", "status"), [(STAFF_USER, 200), (DEMO_USER, 302)])
def test_only_the_staff_user_gets_into_the_admin(spec, status):
    load()
    client = Client()

    assert client.login(username=spec["username"], password=spec["password"])
    assert client.get("/admin/course/course/").status_code == status


def test_every_demo_lesson_says_the_length_of_the_video_it_plays():
    from apps.course.demo_media import DEMO_VIDEO_FILE
    from apps.course.mp4 import mp4_duration

    load()
    with open(DEMO_VIDEO_FILE, "rb") as video:
        seconds = round(mp4_duration(video).total_seconds())

    durations = set(CourseSection.objects.values_list("duration", flat=True))
    assert seconds > 0
    assert durations == {f"00:{seconds:02d}"}


def test_the_demo_learner_owns_a_course_and_is_partway_through_it(api_client):
    from apps.course.management.commands.load_demo import DEMO_LEARNING

    load()
    load()  # a rerun neither duplicates nor resets the progress
    login = api_client.post(
        LOGIN_URL,
        {"username": DEMO_USER["username"], "password": DEMO_USER["password"]},
        format="json",
    ).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"jwt {login['token']}")
    course = Course.objects.get(name=DEMO_LEARNING)

    (mine,) = api_client.get("/api/v1/user/courses/").json()["results"]
    progress = api_client.get("/api/v1/course/progress/", {"course": course.pk}).json()["result"]

    assert mine["id"] == course.pk
    assert mine["progress"] == 22  # 2 of 9 lessons
    assert progress["completed_lessons"] == 2
    assert progress["resume_section"]["name"] == "1.3 课时3"
    assert progress["resume_section"]["position"] == 3
