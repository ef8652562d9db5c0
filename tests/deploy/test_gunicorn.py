"""gunicorn.conf.py as production runs it: settings from the environment, the access log with
the request id and the time taken, and a graceful reload on HUP that drops no request."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from utils.gunicorn_process import GUNICORN, free_port

ROOT = Path(__file__).resolve().parents[2]


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback http
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def server(tmp_path):
    """gunicorn -c gunicorn.conf.py with two sync workers (liveness needs no database)."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        "PATH": os.environ["PATH"],
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_SECRET_KEY": "gunicorn-test-key-" + "y" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PORT": str(port),
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "1",
        "GUNICORN_GRACEFUL_TIMEOUT": "5",
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
            [str(GUNICORN), "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                get(url + "/health/")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield proc, url, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def booted_workers(log: Path) -> list[str]:
    return re.findall(r"Booting worker with pid: (\d+)", log.read_text())


def test_the_access_log_has_the_request_id_and_the_time_taken(server):
    _proc, url, log = server
    status, headers, _body = get(url + "/health/", **{"X-Request-ID": "lb-probe-12345"})
    assert status == 200 and headers["X-Request-ID"] == "lb-probe-12345"
    time.sleep(0.3)
    [line] = [x for x in log.read_text().splitlines() if "lb-probe-12345" in x]
    assert re.match(
        r"^\d{4}-\d\d-\d\dT\S+[+-]\d\d:\d\d INFO gunicorn\.access \[lb-probe-12345\] "
        r'- "GET /health/ HTTP/1\.1" 200 \d+ \d+ms "Python-urllib/',
        line,
    ), line
    assert "Using worker: sync" in log.read_text()
    assert len(booted_workers(log)) == 2  # GUNICORN_WORKERS


def test_hup_replaces_every_worker_and_no_request_fails_meanwhile(server):
    proc, url, log = server
    before = booted_workers(log)
    failures: list[str] = []
    answered = 0
    stop = threading.Event()

    def traffic() -> None:
        nonlocal answered
        while not stop.is_set():
            try:
                status, _, _ = get(url + "/health/")
                answered += status == 200
            except OSError as exc:
                failures.append(repr(exc))

    thread = threading.Thread(target=traffic)
    thread.start()
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 20
    while len(booted_workers(log)) < len(before) + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    thread.join()
    assert len(booted_workers(log)) == len(before) + 2, log.read_text()
    assert "Handling signal: hup" in log.read_text()
    assert proc.poll() is None  # the master stays, same pid, same socket
    assert answered > 0 and failures == []
