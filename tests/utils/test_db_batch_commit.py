"""batch.run(..., commit=True): the last statements of a transaction and its COMMIT in one
request on MariaDB (utils/db/mysql); the same rows committed, the same errors, and nothing sent
after it, as when atomic() commits them itself."""

from __future__ import annotations

import MySQLdb
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from tests.support.round_trips import counting_round_trips
from utils.db import batch

from .test_db_batch import insert, keys

pytestmark = pytest.mark.django_db(transaction=True)


def committed_keys(prefix: str) -> list[str]:
    """What another session sees: only committed rows."""
    settings = connection.settings_dict
    other = MySQLdb.connect(
        host=settings["HOST"],
        port=int(settings["PORT"]),
        user=settings["USER"],
        password=settings["PASSWORD"],
        database=settings["NAME"],
    )
    try:
        cursor = other.cursor()
        cursor.execute("SELECT cache_key FROM luffy_cache WHERE cache_key LIKE %s", [f"{prefix}%"])
        return sorted(row[0] for row in cursor.fetchall())
    finally:
        other.close()


def test_the_rows_of_a_committing_batch_are_those_atomic_commits():
    with transaction.atomic():
        batch.run([insert("alone-a")])
        batch.run([insert("alone-b")])
    with transaction.atomic():
        batch.run([insert("commit-a")])
        results = batch.run([insert("commit-b")], commit=True)
    assert [r.rowcount for r in results] == [1]
    assert keys("alone-") == ["alone-a", "alone-b"]
    assert keys("commit-") == ["commit-a", "commit-b"]


@pytest.mark.mysql_only
def test_on_mariadb_the_commit_goes_with_the_last_statements_and_atomic_sends_nothing_after(
    monkeypatch,
):
    with (
        CaptureQueriesContext(connection) as captured,
        counting_round_trips(monkeypatch) as trips,
        transaction.atomic(),
    ):
        batch.run([insert("c-a")])
        batch.run([insert("c-b"), insert("c-c")], commit=True)
        # Committed already, before the block ends: another session sees the rows.
        assert committed_keys("c-") == ["c-a", "c-b", "c-c"]
    assert trips.count == 2, trips.sent  # BEGIN + INSERT; INSERT, INSERT, COMMIT
    sqls = [q["sql"] for q in captured.captured_queries]
    assert sqls[0] == "BEGIN" and sqls[-1] == "COMMIT" and sqls.count("COMMIT") == 1, sqls
    assert connection.connection.get_autocommit()
    with transaction.atomic():  # the next transaction is an ordinary one
        batch.run([insert("d-a")])
    assert committed_keys("d-") == ["d-a"]


@pytest.mark.mysql_only
def test_on_mariadb_no_statement_may_follow_a_committing_batch_in_its_block():
    with pytest.raises(TransactionManagementError), transaction.atomic():
        batch.run([insert("e-a")], commit=True)
        batch.run([insert("e-b")])
    with pytest.raises(TransactionManagementError), transaction.atomic():
        batch.run([insert("f-a")], commit=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    # What ran before the refusal was committed; the refused statements never ran.
    assert committed_keys("e-") == ["e-a"] and committed_keys("f-") == ["f-a"]
    with transaction.atomic():
        batch.run([insert("g-a")])
    assert keys("g-") == ["g-a"]


@pytest.mark.mysql_only
def test_on_mariadb_a_committing_batch_that_fails_commits_nothing_and_raises_as_alone():
    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        batch.run([insert("h-a")])
        batch.run([insert("h-b"), insert("h-a")], commit=True)  # h-a again: duplicate key
    assert raised.value.batch_index == 1
    assert committed_keys("h-") == []
    with transaction.atomic():
        batch.run([insert("h-a")], commit=True)
    assert committed_keys("h-") == ["h-a"]


@pytest.mark.mysql_only
def test_on_mariadb_a_nested_block_leaves_the_commit_to_the_outermost(monkeypatch):
    with counting_round_trips(monkeypatch) as trips, transaction.atomic():
        batch.run([insert("n-a")])
        with transaction.atomic():  # a savepoint: its statements are not the last
            batch.run([insert("n-b")], commit=True)
        assert committed_keys("n-") == []
        batch.run([insert("n-c")])
    assert committed_keys("n-") == ["n-a", "n-b", "n-c"]
    assert trips.sent[-1] == "COMMIT"
    batch.run([insert("o-a")], commit=True)  # outside any block: autocommit, as without
    assert committed_keys("o-") == ["o-a"]
