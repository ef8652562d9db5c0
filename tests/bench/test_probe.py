"""bench/probe.py: commits and requests per request, and the time waited for MariaDB."""

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
def test_the_driver_counts_each_statement_as_one_request_and_the_time_waited_for_it(
    monkeypatch,
):
    from django.db import connection

    connection.ensure_connection()
    cls = type(connection.connection)
    for name in probe.DriverRequests.WAITS:  # restored after the test
        monkeypatch.setattr(cls, name, getattr(cls, name))
    requests = probe.DriverRequests()
    requests.install()
    before = probe.session_counters()
    sent = requests.count
    with connection.cursor() as cursor:
        for statement in ("SELECT 1", "SELECT 2", "SELECT 3"):
            cursor.execute(statement)
    assert requests.count - sent == 3
    assert probe.counter_deltas(before, probe.session_counters())["round_trips"] == 3
    # The time waited is the server's: a statement that sleeps 50 ms is waited for.
    waited = requests.waited_s
    with connection.cursor() as cursor:
        cursor.execute("SELECT SLEEP(0.05)")
    assert 0.05 <= requests.waited_s - waited < 1.0
    waited = requests.waited_s
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert requests.waited_s - waited < 0.05
