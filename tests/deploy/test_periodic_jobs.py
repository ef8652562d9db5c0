"""The periodic jobs as an operator wires them: systemd timers or cron running manage.py
commands that exit non-zero when they cannot do their job and show their defaults in --help."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
JOBS = ["expire_orders", "reconcile_orders", "prune_notifications", "release_flash_seats"]
ENV_FILE = "/etc/luffy/luffy.env"


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    """manage.py in a clean environment: development settings, no Alipay (not even the local
    cashier that DEBUG would turn on), no .env."""
    env = {
        "PATH": os.environ["PATH"],
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_DEBUG": "true",
        "LOCAL_CASHIER": "false",
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def test_reconcile_without_alipay_configured_exits_non_zero_and_says_why():
    result = manage("reconcile_orders")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "reconcile_orders: Alipay is not configured, nothing to ask" in result.stderr


@pytest.mark.parametrize(
    ("command", "defaults"),
    [
        ("expire_orders", ["at most this many per run (default: 500)"]),
        (
            "reconcile_orders",
            ["look back this many hours (default: 24)", "at most this many per run (default: 500)"],
        ),
    ],
)
def test_help_shows_each_options_default(command, defaults):
    result = manage(command, "--help")
    assert result.returncode == 0, result.stderr
    text = re.sub(r"\s+", " ", result.stdout)
    for default in defaults:
        assert default in text


@pytest.mark.parametrize("job", JOBS)
def test_each_job_has_a_timer_a_oneshot_service_and_a_cron_line(job):
    if job not in get_commands():
        pytest.skip(f"manage.py {job} comes with the orders branch")
    timer = unit(f"luffy-{job}.timer")
    assert timer["Timer"]["Unit"] == f"luffy-{job}.service"
    assert timer["Timer"]["OnCalendar"]
    assert timer["Install"]["WantedBy"] == "timers.target"
    service = unit(f"luffy-{job}.service")["Service"]
    assert service["Type"] == "oneshot"
    assert service["EnvironmentFile"] == ENV_FILE
    assert service["ExecStart"].split()[-2:] == ["manage.py", job]
    assert service["User"] == "luffy"
    cron = (ROOT / "deploy" / "crontab").read_text()
    assert re.search(rf"^[^#].*deploy/run-job\.sh {job}$", cron, re.MULTILINE)


def test_the_app_service_runs_gunicorn_with_the_projects_config_and_reloads_on_hup():
    service = unit("luffy.service")["Service"]
    assert service["EnvironmentFile"] == ENV_FILE
    assert service["ExecStart"].endswith("gunicorn -c /srv/luffy/gunicorn.conf.py")
    assert service["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    assert (ROOT / "gunicorn.conf.py").exists()


def run_job(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "luffy.env"
    env_file.write_text(
        "DJANGO_DEBUG=true\nLOCAL_CASHIER=false\n"
        f"DATABASE_URL=sqlite:///{tmp_path / 'db.sqlite3'}\n"
    )
    return subprocess.run(  # noqa: S603 - the project's own script
        [str(ROOT / "deploy" / "run-job.sh"), *args],
        env={"PATH": os.environ["PATH"], "LUFFY_ENV_FILE": str(env_file), "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cron_wrapper_prints_nothing_when_the_job_succeeds(tmp_path):
    result = run_job(tmp_path, "check")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_cron_wrapper_prints_the_failure_and_passes_the_exit_status_on(tmp_path):
    result = run_job(tmp_path, "reconcile_orders")
    assert result.returncode == 1
    assert "Alipay is not configured" in result.stdout
    assert result.stdout.rstrip().endswith("reconcile_orders exited 1")
