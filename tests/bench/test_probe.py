"""bench/probe.py's counting of commits per request, from the statements Django sent."""

from __future__ import annotations

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
