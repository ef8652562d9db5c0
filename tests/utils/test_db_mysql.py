"""utils/db/mysql: on MariaDB a transaction begins with BEGIN and the session stays in
autocommit, so it costs one round trip fewer; everything a transaction promises is unchanged."""

from __future__ import annotations

import pytest
from django.db import connection, connections, transaction

from apps.course.models import CourseCategory

pytestmark = [pytest.mark.mysql_only, pytest.mark.django_db(transaction=True)]


def questions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Questions'")
        return int(cursor.fetchone()[1])


def test_the_project_uses_the_backend_that_begins_with_begin():
    assert connection.settings_dict["ENGINE"] == "utils.db.mysql"
    assert type(connections["default"]).__module__ == "utils.db.mysql.base"


def test_a_transaction_is_begin_the_statements_and_commit_nothing_else():
    connection.ensure_connection()
    before = questions()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # BEGIN, SELECT, COMMIT (Django's own way: SET autocommit=0, SELECT, COMMIT,
    # SET autocommit=1), and the SHOW that reads the counter.
    assert questions() - before == 4
    assert connection.connection.get_autocommit() and connection.get_autocommit()


def test_a_rolled_back_transaction_and_a_rolled_back_savepoint_write_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        CourseCategory.objects.create(name="rolled back")
        raise RuntimeError
    with transaction.atomic():
        CourseCategory.objects.create(name="kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            CourseCategory.objects.create(name="savepoint rolled back")
            raise RuntimeError
    assert list(CourseCategory.objects.values_list("name", flat=True)) == ["kept"]


def test_what_a_transaction_writes_is_invisible_to_others_until_it_commits():
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            CourseCategory.objects.create(name="pending")
            with other.cursor() as cursor:
                cursor.execute("SELECT @@SESSION.tx_isolation")
                assert cursor.fetchone()[0] == "READ-COMMITTED"
                cursor.execute("SELECT COUNT(*) FROM luffy_course_category")
                assert cursor.fetchone()[0] == 0
            with connection.cursor() as cursor:  # this session's isolation level, too
                cursor.execute("SELECT @@SESSION.tx_isolation")
                assert cursor.fetchone()[0] == "READ-COMMITTED"
        with other.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM luffy_course_category")
            assert cursor.fetchone()[0] == 1
    finally:
        other.close()


def test_switching_autocommit_off_by_hand_still_does_so():
    transaction.set_autocommit(False)
    try:
        assert not connection.connection.get_autocommit()
        with connection.cursor() as cursor:  # no model signals: they need atomic()
            cursor.execute(INSERT_CACHE_ROW)
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert connection.connection.get_autocommit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM luffy_cache WHERE cache_key = 'needs a commit'")
        assert cursor.fetchone()[0] == 0


INSERT_CACHE_ROW = (
    "INSERT INTO luffy_cache (cache_key, value, expires) "
    "VALUES ('needs a commit', '', '2030-01-01 00:00:00')"
)


def connection_setup_questions(wrapper_class: type) -> tuple[int, bool]:
    """Statements a new connection sent before its first query, and whether it is in autocommit."""
    wrapper = wrapper_class(dict(connection.settings_dict), alias="setup-probe")
    try:
        wrapper.ensure_connection()
        with wrapper.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Questions'")
            return int(cursor.fetchone()[1]) - 1, wrapper.connection.get_autocommit()
    finally:
        wrapper.close()


def test_a_new_connection_starts_in_autocommit_without_switching_it_off_and_on():
    from django.db.backends.mysql.base import DatabaseWrapper as Django

    from utils.db.mysql.base import DatabaseWrapper as Ours

    ours, django = connection_setup_questions(Ours), connection_setup_questions(Django)
    assert ours == (django[0] - 2, True)  # no SET autocommit=0, no SET autocommit=1
    assert django[1] is True
