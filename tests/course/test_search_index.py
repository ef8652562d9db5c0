"""The Mroonga search index follows every course write, can be rebuilt, and says when it is
missing (issue 12, target 5). The LIKE backend needs none of it and works on SQLite."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings

from apps.course import selectors
from apps.course.models import Course
from apps.course.search import search_backend
from apps.course.search.mroonga import TABLE
from tests.factories import CourseFactory

from .helpers import SEARCH_URL, names


def candidates(text: str) -> set[int]:
    condition = search_backend().matching(selectors.search_words(text))
    assert condition is not None, "the Mroonga backend must narrow a word with letters"
    return set(Course.objects.filter(condition).values_list("id", flat=True))


@pytest.mark.django_db
def test_the_like_backend_does_not_narrow_and_search_still_finds_by_scanning():
    CourseFactory(name="Django实战")
    with override_settings(SEARCH_BACKEND="like"):
        assert search_backend().matching(["django"]) is None
        assert search_backend().problem() == ""
        assert names(Client().get(SEARCH_URL, {"search": "战"})) == ["Django实战"]


@pytest.mark.django_db
def test_a_created_course_is_a_candidate_for_its_words_once_committed(
    mroonga, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        course = CourseFactory(name="量子力学入门", brief="Quantum basics")
    assert course.pk in candidates("量子")
    assert course.pk in candidates("QUANTUM")
    assert course.pk in candidates("子")  # one character
    assert course.pk not in candidates("力量")


@pytest.mark.django_db
def test_an_edited_course_is_found_by_its_new_text_and_no_longer_by_the_old(
    mroonga, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        course = CourseFactory(name="Vue3从零到一")
    with django_capture_on_commit_callbacks(execute=True):
        course.name = "Rust系统编程"
        course.save()
    assert course.pk in candidates("rust 编程")
    assert course.pk not in candidates("vue3")


@pytest.mark.django_db
def test_an_edit_that_rolls_back_still_leaves_the_course_found_by_its_old_text(
    mroonga, django_capture_on_commit_callbacks
):
    # Mroonga does not roll back: the entry keeps the old text beside the new one.
    with django_capture_on_commit_callbacks(execute=True):
        course = CourseFactory(name="Kotlin协程")
    with pytest.raises(RuntimeError), transaction.atomic():
        course.name = "Swift并发"
        course.save()
        raise RuntimeError("the edit fails after the save")
    course.refresh_from_db()
    assert course.name == "Kotlin协程"
    assert course.pk in candidates("kotlin 协程")
    assert names(Client().get(SEARCH_URL, {"search": "协程"})) == ["Kotlin协程"]
    assert names(Client().get(SEARCH_URL, {"search": "swift"})) == []


@pytest.mark.django_db
def test_a_hidden_course_leaves_the_index_once_committed_and_the_search_hides_it(
    mroonga, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        course = CourseFactory(name="Haskell函数式")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        course.is_show = False
        course.save()
    # Before the commit it stays (a rollback must find it), and the predicate decides.
    assert course.pk in candidates("haskell")
    assert names(Client().get(SEARCH_URL, {"search": "haskell"})) == []
    for callback in callbacks:
        callback()
    assert course.pk not in candidates("haskell")
    assert names(Client().get(SEARCH_URL, {"search": "haskell"})) == []
    with django_capture_on_commit_callbacks(execute=True):
        course.is_show = True
        course.save()
    assert names(Client().get(SEARCH_URL, {"search": "haskell"})) == ["Haskell函数式"]


@pytest.mark.django_db
def test_a_deleted_course_leaves_the_index_after_the_commit(
    mroonga, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        course = CourseFactory(name="Erlang分布式")
    course_id = course.pk
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        course.delete()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE id = %s", [course_id])  # noqa: S608
        assert cursor.fetchone() == (1,)  # not before the commit
    for callback in callbacks:
        callback()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE id = %s", [course_id])  # noqa: S608
        assert cursor.fetchone() == (0,)


# DDL commits in MariaDB: these tests run outside the test case's transaction.
@pytest.mark.django_db(transaction=True)
def test_rebuild_search_index_catches_up_with_writes_that_bypassed_save(mroonga):
    course = CourseFactory(name="Scala大数据")
    Course.objects.filter(pk=course.pk).update(name="Julia科学计算")  # no signal
    assert course.pk not in candidates("julia")
    call_command("rebuild_search_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert course.pk in candidates("julia")
    assert course.pk not in candidates("scala")


@pytest.mark.django_db(transaction=True)
def test_readiness_and_the_system_check_say_when_the_index_is_missing(mroonga):
    CourseFactory(name="Elixir入门")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")
    try:
        response = Client().get("/health/ready/")
        assert response.status_code == 503
        assert response.json()["msg"] == "not ready: search"
        warnings = run_checks(databases=["default"])
        assert [w.id for w in warnings if w.id.startswith("course.")] == ["course.W001"]
    finally:
        call_command("rebuild_search_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Client().get("/health/ready/").status_code == 200
    assert not [w for w in run_checks(databases=["default"]) if w.id.startswith("course.")]
    assert names(Client().get(SEARCH_URL, {"search": "elixir"})) == ["Elixir入门"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SEARCH_BACKEND": "elastic"}, "SEARCH_BACKEND must be like or mroonga, got 'elastic'"),
        ({"SEARCH_BACKEND": "mroonga"}, "SEARCH_BACKEND=mroonga needs a MariaDB DATABASE_URL"),
    ],
)
def test_a_search_backend_that_cannot_work_stops_the_server_with_the_reason(env, message):
    from tests.test_settings import manage

    result = manage("check", DJANGO_DEBUG="true", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_search_backend_defaults_to_like_without_a_setting():
    from tests.test_settings import manage

    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SEARCH_BACKEND)",
        DJANGO_DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "like"
