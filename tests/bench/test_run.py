"""What bench/run.py gives the app and reads from the probe."""

from __future__ import annotations

from pathlib import Path

from bench import run
from bench.alipay import KeyFiles


def test_the_app_runs_plain_sync_workers_that_are_never_recycled_mid_run():
    # gunicorn reads the project's gunicorn.conf.py, whose defaults are 4-thread gthread
    # workers restarted every ~2,000 requests: not what issue 12 measured.
    keys = KeyFiles(*(Path(f"/nonexistent/{n}.pem") for n in ("a", "b", "c", "d")))
    env = run.django_env("mysql://u:p@127.0.0.1:3325/luffy_bench_small", keys, "s" * 50)
    assert env["GUNICORN_THREADS"] == "1"
    assert env["GUNICORN_MAX_REQUESTS"] == "0"
    assert env["DJANGO_SETTINGS_MODULE"] == "bench.settings"


def test_probe_costs_pass_on_what_the_probe_measured_and_none_for_the_rest():
    older = {"single_request_ms": {"notify": 7.5, "pay": 15.0, "login": 470.0}}
    costs = run.probe_costs(older)
    assert costs["commit_ms"] is None
    assert costs["single_request_ms"] == {
        "notify_first": None,
        "notify": 7.5,
        "pay": 15.0,
        "login": 470.0,
        "ceiling": None,
    }
    assert costs["single_request_db_ms"] == {"notify_first": None, "notify": None, "pay": None}
    assert costs["commits"] == {}
    newer = {
        "commit_ms": 0.9,
        "endpoints": {
            "pay": {"commits_first": 1, "commits_repeat": 1},
            "notify": {"commits_first": 1, "commits_repeat": 0},
            "list": {"commits_first": 0},
        },
        "single_request_ms": {
            "notify_first": 3.0,
            "notify": 1.5,
            "pay": 5.0,
            "ceiling": 0.2,
            "list": 0.3,
        },
        "single_request_db_ms": {"notify_first": 1.1, "notify": 0.4, "pay": 0.7, "list": 0.1},
    }
    costs = run.probe_costs(newer)
    assert costs["commit_ms"] == 0.9
    assert costs["single_request_ms"]["ceiling"] == 0.2
    assert "list" not in costs["single_request_ms"]
    assert costs["single_request_db_ms"] == {"notify_first": 1.1, "notify": 0.4, "pay": 0.7}
    # bench/probe.py counts commits per endpoint (first call, repeat); the report names them.
    assert costs["commits"] == {"pay": 1, "notify first": 1, "notify redelivery": 0}
    assert costs["single_request_ms"]["notify_first"] == 3.0


def test_every_placement_line_has_its_own_buyer():
    # Two overlapping baskets of one buyer make the shop close the first one's Alipay trade,
    # and the bench runs no gateway: that would be a 503, not the cost of placing an order.
    from bench import config, fixtures

    assert config.PLACEMENT_USERS >= fixtures.PAY_LINES
