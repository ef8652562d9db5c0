"""bench/probe.py's counting of commits per request, from the statements Django sent."""

from __future__ import annotations

import pytest

from bench import probe
from bench.probe import commits_in


def test_each_commit_and_each_write_in_autocommit_count_as_one_commit():
    # The notify before issue 12: log INSERT, the settlement's transaction, outcome UPDATE.
    old_notify = [
        "INSERT INTO log",
        "BEGIN",
        "SELECT ... FOR UPDATE",
        "UPDATE o",
        "COMMIT",
        "UPDATE log",
    ]
    assert commits_in(old_notify) == 3
    assert commits_in(["BEGIN", "SELECT ... FOR UPDATE", "INSERT INTO log", "COMMIT"]) == 1


def test_reads_and_rolled_back_transactions_commit_nothing():
    assert commits_in(["SELECT 1", "SELECT 2"]) == 0
    assert commits_in(["BEGIN IMMEDIATE", "INSERT INTO t", "ROLLBACK"]) == 0


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)
def test_the_driver_counts_a_batch_as_one_request_where_mariadb_counts_each_statement(
    monkeypatch,
):
    from django.db import connection

    from utils.db import batch
    from utils.db.batch import Statement

    connection.ensure_connection()
    cls = type(connection.connection)
    for name in ("query", "commit", "rollback"):  # restored after the test
        monkeypatch.setattr(cls, name, getattr(cls, name))
    requests = probe.DriverRequests()
    requests.install()
    before = probe.session_counters()
    sent = requests.count
    batch.run([Statement("SELECT 1"), Statement("SELECT 2"), Statement("SELECT 3")])
    sent = requests.count - sent
    assert sent == 1
    assert probe.counter_deltas(before, probe.session_counters())["round_trips"] == 3
