"""utils/db/batch.py and the BEGIN that utils/db/mysql sends with a transaction's first statement:
fewer round trips, the same results and the same errors as the statements sent one by one."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.support.round_trips import counting_round_trips
from utils.db import batch
from utils.db.batch import Result, Statement

CACHE = "luffy_cache"  # Django's cache table: three plain columns, no autoincrement


def insert(key: str) -> Statement:
    return Statement(
        f"INSERT INTO {CACHE} (cache_key, value, expires) VALUES (%s, %s, %s)",  # noqa: S608
        [key, "v", "2030-01-01 00:00:00"],
    )


def keys(prefix: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cache_key FROM {CACHE} WHERE cache_key LIKE %s ORDER BY cache_key",  # noqa: S608
            [f"{prefix}%"],
        )
        return [row[0] for row in cursor.fetchall()]


def mixed(tag: str) -> list[Statement]:
    """Writes, reads with and without rows, values with a % in them, and a statement without
    parameters (no interpolation at all)."""
    return [
        insert(f"{tag}-a"),
        Statement(
            f"INSERT INTO {CACHE} (cache_key, value, expires) VALUES (%s, %s, %s), (%s, %s, %s)",  # noqa: S608
            [f"{tag}-b", "50%", "2030-01-01 00:00:00", f"{tag}-c", "x", "2031-01-01 00:00:00"],
        ),
        Statement(f"UPDATE {CACHE} SET value = %s WHERE cache_key LIKE %s", ["y", f"{tag}-%"]),  # noqa: S608
        Statement(
            f"SELECT cache_key, value FROM {CACHE} WHERE cache_key LIKE %s ORDER BY cache_key",  # noqa: S608
            [f"{tag}-%"],
        ),
        Statement(f"SELECT cache_key FROM {CACHE} WHERE cache_key = %s", ["nothing"]),  # noqa: S608
        Statement("SELECT %s, %s", [f"{tag} 100%", 7]),
        Statement("SELECT '100%'"),
    ]


def one_by_one(statements: list[Statement]) -> list[Result]:
    results = []
    with connection.cursor() as cursor:
        for s in statements:
            cursor.execute(s.sql, s.params)
            rows = list(cursor.fetchall()) if cursor.description else []
            results.append(Result(cursor.rowcount, rows, cursor.lastrowid))
    return results


def untagged(results: list[Result], tag: str) -> list[tuple]:
    def plain(value):
        return value.replace(tag, "TAG") if isinstance(value, str) else value

    # SQLite's lastrowid is the table's last rowid, which moves with every insert; MariaDB's
    # is 0 here (no autoincrement column) and must be the same.
    mysql = connection.vendor == "mysql"
    return [
        (r.rowcount, [tuple(plain(v) for v in row) for row in r.rows], r.lastrowid if mysql else 0)
        for r in results
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("in_transaction", [False, True])
def test_a_batch_returns_exactly_what_its_statements_return_one_by_one(in_transaction):
    def run(fn, tag):
        if not in_transaction:
            return fn(mixed(tag))
        with transaction.atomic():
            return fn(mixed(tag))

    slow, fast = run(one_by_one, "slow"), run(batch.run, "fast")
    assert untagged(fast, "fast") == untagged(slow, "slow")
    assert fast[3].rows == [("fast-a", "y"), ("fast-b", "y"), ("fast-c", "y")]
    assert fast[2].rowcount == 3 and fast[4].rows == [] and fast[6].rows == [("100%",)]
    assert keys("fast") == ["fast-a", "fast-b", "fast-c"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_raises_its_own_error_with_its_place_and_stops_the_batch():
    with pytest.raises(IntegrityError) as alone:
        batch.run([insert("dup"), insert("dup")])
    assert alone.value.batch_index == 1
    # In autocommit the first INSERT stands; the one after the failure never ran.
    statements = [insert("dup-2"), insert("dup"), insert("dup-3")]
    with pytest.raises(IntegrityError) as failed:
        batch.run(statements)
    assert failed.value.batch_index == 1
    assert failed.value.batch_statement is statements[1]  # the very object, for its caller
    assert keys("dup") == ["dup", "dup-2"]
    # In a transaction, nothing stays; and the connection goes on.
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.run([insert("dup-4"), insert("dup")])
    assert keys("dup") == ["dup", "dup-2"]
    assert batch.run([Statement("SELECT 1")])[0].rows == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_an_error_a_statement_raises_in_a_batch_is_the_one_it_raises_alone():
    with pytest.raises(IntegrityError) as alone, connection.cursor() as cursor:
        cursor.execute(insert("same").sql, insert("same").params)
        cursor.execute(insert("same").sql, insert("same").params)
    with pytest.raises(IntegrityError) as batched:
        batch.run([insert("same")])
    assert type(batched.value) is type(alone.value)
    assert batched.value.args == alone.value.args


# --- MariaDB: one round trip, and the BEGIN that waits for the first statement ----------------

mysql = pytest.mark.mysql_only


@mysql
@pytest.mark.django_db(transaction=True)
def test_a_batch_is_one_round_trip(monkeypatch):
    with counting_round_trips(monkeypatch) as trips:
        batch.run(mixed("one"))
    assert trips.count == 1


@mysql
@pytest.mark.django_db(transaction=True)
def test_a_transaction_sends_its_begin_with_its_first_statement(monkeypatch):
    with (
        counting_round_trips(monkeypatch) as trips,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT %s", [41])
        assert cursor.fetchall() == ((41,),)  # the statement's rows, not BEGIN's
        cursor.execute(insert("later").sql, insert("later").params)
    assert trips.sent[0].startswith("BEGIN;\nSELECT 41")
    assert trips.count == 3  # BEGIN + SELECT, INSERT, COMMIT
    assert connection.connection.get_autocommit()


@mysql
@pytest.mark.django_db(transaction=True)
def test_an_atomic_block_that_runs_no_statement_sends_nothing(monkeypatch):
    with counting_round_trips(monkeypatch) as trips:
        with transaction.atomic():
            pass
        with pytest.raises(RuntimeError), transaction.atomic():
            raise RuntimeError
    assert trips.sent == []
    with counting_round_trips(monkeypatch) as trips, transaction.atomic():
        batch.run([Statement("SELECT 1")])
    assert trips.count == 2  # BEGIN + SELECT, COMMIT


@mysql
@pytest.mark.django_db(transaction=True)
def test_a_first_statement_that_fails_raises_as_alone_and_its_transaction_rolls_back():
    batch.run([insert("taken")])
    with pytest.raises(IntegrityError) as alone, connection.cursor() as cursor:
        cursor.execute(insert("taken").sql, insert("taken").params)
    with pytest.raises(IntegrityError) as first, transaction.atomic(), connection.cursor() as c:
        c.execute(insert("taken").sql, insert("taken").params)
    assert type(first.value) is type(alone.value) and first.value.args == alone.value.args
    # Django's own mapping of a misfiled error (1048, NULL into NOT NULL) holds too.
    null = f"INSERT INTO {CACHE} (cache_key, value, expires) VALUES ('n', NULL, NULL)"  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(null)
    with transaction.atomic():
        batch.run([insert("after-a")])
        with pytest.raises(IntegrityError), transaction.atomic():  # a savepoint
            batch.run([insert("after-b"), insert("taken")])
    assert keys("after") == ["after-a"] and keys("n") == []


@mysql
@pytest.mark.django_db(transaction=True)
def test_captured_queries_still_show_the_begin_and_each_batched_statement():
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        batch.run([insert("shown"), Statement("SELECT %s", [2])])
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s", [3])
    with CaptureQueriesContext(connection) as by_execute, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s", [4])
        batch.run([Statement("SELECT %s", [5])])
    assert [q["sql"] for q in captured.captured_queries] == [
        "BEGIN",
        f"INSERT INTO {CACHE} (cache_key, value, expires) "  # noqa: S608
        "VALUES ('shown', 'v', '2030-01-01 00:00:00')",
        "SELECT 2",
        "SELECT 3",
        "COMMIT",
    ]
    assert [q["sql"] for q in by_execute.captured_queries] == [
        "BEGIN",
        "SELECT 4",
        "SELECT 5",
        "COMMIT",
    ]


@mysql
@pytest.mark.django_db(transaction=True)
def test_the_first_statement_of_a_transaction_reports_its_own_insert_id():
    from apps.course.models import CourseCategory

    with transaction.atomic():
        made = CourseCategory.objects.create(name="first in its transaction")
    assert CourseCategory.objects.get(pk=made.pk).name == "first in its transaction"
    table = CourseCategory._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, orders, is_show, is_delete, created_time, updated_time)"  # noqa: S608
            " VALUES (%s, 1, 1, 0, NOW(6), NOW(6))",
            ["raw first"],
        )
        new_id = cursor.lastrowid
    assert CourseCategory.objects.get(pk=new_id).name == "raw first"


@mysql
@pytest.mark.django_db(transaction=True)
def test_binary_values_and_named_parameters_go_with_the_begin_unchanged():
    """A BinaryField's bytes need not be text (the course documents' are bytes): the first
    statement is bound and sent as bytes, as the driver sends any statement."""
    from apps.course import documents
    from apps.course.models import CourseDocument
    from tests.factories import CourseFactory

    course = CourseFactory()
    documents.invalidate([course.pk])  # the row exists
    raw = bytes(range(256))
    with transaction.atomic():
        CourseDocument.objects.filter(pk=course.pk).update(detail=raw)
    assert bytes(CourseDocument.objects.get(pk=course.pk).detail) == raw
    table = CourseDocument._meta.db_table
    update = f"UPDATE {table} SET detail = %s WHERE course_id = %s"  # noqa: S608
    with transaction.atomic():
        batch.run([Statement(update, [raw[::-1], course.pk])])
    assert bytes(CourseDocument.objects.get(pk=course.pk).detail) == raw[::-1]
    with (
        CaptureQueriesContext(connection) as captured,
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute("SELECT %(a)s + %(b)s", {"a": 40, "b": 2})
        assert c.fetchone()[0] == 42
    assert [q["sql"] for q in captured.captured_queries] == ["BEGIN", "SELECT 40 + 2", "COMMIT"]


@mysql
@pytest.mark.django_db(transaction=True)
def test_executemany_first_in_a_transaction_sends_the_begin_alone_before_it(monkeypatch):
    rows = [(f"many-{i}", "v", "2030-01-01 00:00:00") for i in range(3)]
    sql = f"INSERT INTO {CACHE} (cache_key, value, expires) VALUES (%s, %s, %s)"  # noqa: S608
    rolled_back = pytest.raises(RuntimeError)
    with counting_round_trips(monkeypatch) as trips, rolled_back, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        raise RuntimeError  # rolled back: the BEGIN really began the transaction
    assert trips.sent[0] == "BEGIN" and trips.sent[-1] == "ROLLBACK"
    assert keys("many") == []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    assert keys("many") == ["many-0", "many-1", "many-2"]
