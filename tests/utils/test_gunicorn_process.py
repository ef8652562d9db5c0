"""The one gunicorn launcher of the benchmark and the drills, run for real with the bench's
settings: the ceiling view answers, stop and kill leave nothing listening."""

from __future__ import annotations

import os
import socket

import pytest

from utils.gunicorn_process import GunicornFailed, GunicornProcess, http_status


def bench_env(tmp_path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": "gunicorn-process-test-" + "k" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def server(tmp_path, **kwargs) -> GunicornProcess:
    args = ["luffy_api.wsgi:application", "--workers=2", "--worker-class=sync"]
    return GunicornProcess(
        args, env=bench_env(tmp_path), log_path=tmp_path / "gunicorn.log", **kwargs
    )


def test_the_bench_app_serves_its_ceiling_and_stops_with_all_its_workers(tmp_path):
    gunicorn = server(tmp_path, ready_path="/bench/ceiling/")
    with gunicorn:
        assert http_status(gunicorn.url + "/bench/ceiling/", timeout=5) == 200
        workers = gunicorn.worker_pids()
        assert len(workers) == 2
    assert not listening(gunicorn.port)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)


def test_kill_returns_once_nothing_listens(tmp_path):
    gunicorn = server(tmp_path).start()
    gunicorn.kill()
    assert gunicorn.proc is None
    assert not listening(gunicorn.port)


def test_a_server_that_cannot_start_fails_with_its_log(tmp_path):
    env_without_key = server(tmp_path)
    env_without_key.env = {**env_without_key.env, "DJANGO_SECRET_KEY": ""}
    with pytest.raises(GunicornFailed, match="DJANGO_SECRET_KEY"):
        env_without_key.start(timeout=20)
    env_without_key.stop()
