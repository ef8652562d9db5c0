"""The whole application under gunicorn, over loopback, for drills with real concurrency.

The suite's own SQLite database lives in memory and is shared by one process, so it cannot show
what concurrent writers do to SQLite; this module migrates a fresh SQLite *file* in a temporary
directory (as `make run` uses one), seeds it through Django in a subprocess, and serves it with
gunicorn (several worker processes, several threads each) under production settings. On MariaDB
the same server runs on the test database. (Django's live server refuses connections beyond a
backlog of five, so it cannot take a burst of thirty.)
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from utils.gunicorn_process import GunicornProcess

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")

    def json(self) -> dict:
        return json.loads(self.body)


def http_request(
    method: str,
    url: str,
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Answer:
    """One request on its own connection; raises OSError (refused, reset, timed out, or cut
    before the whole answer arrived)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    except http.client.HTTPException as exc:
        # A server killed between an answer's headers and its body gives IncompleteRead, which
        # is no OSError: to the caller, as to a shopper, the connection broke all the same.
        raise ConnectionError(f"{method} {url}: {exc!r}") from exc
    finally:
        conn.close()


def sqlite_url(database_file: Path) -> str:
    return f"sqlite:///{database_file}"


def url_of_the_test_database() -> str:
    """The URL of the database pytest-django created (MariaDB), for a server in a subprocess."""
    from django.db import connection

    db = connection.settings_dict
    user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
    return f"mysql://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def production_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """What a deployment sets (DEBUG off, the database cache), plus `extra`."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "sqlite-drill-secret-key-used-only-by-this-test-0123456789abcdef",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "LUFFY_IGNORE_DOTENV": "1",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(tmp / "media"),
        "SMS_BACKEND": "log",
        **extra,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 120.0) -> str:
    """`manage.py <args>` in a subprocess with `env`; its standard output."""
    done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [str(PYTHON), "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare_database(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "createcachetable")


def run_python(env: dict[str, str], code: str) -> object:
    """Run `code` inside Django (`manage.py shell -c`); it prints one JSON value, returned."""
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


class GunicornServer(GunicornProcess):
    """`gunicorn luffy_api.wsgi` with threaded workers, in its own process group."""

    def __init__(
        self, env: dict[str, str], log_path: Path, *, workers: int = 2, threads: int = 8
    ) -> None:
        args = [
            "luffy_api.wsgi",
            f"--workers={workers}",
            "--worker-class=gthread",
            f"--threads={threads}",
            "--timeout=60",
            "--graceful-timeout=2",
        ]
        super().__init__(
            args,
            env=env,
            log_path=log_path,
            ready_path="/api/v1/course/category/",
            ready_status=None,
        )


class DevServer(GunicornServer):
    """`manage.py runserver`, what `make run` serves with: one process, a thread per request."""

    def command(self) -> list[str]:
        return [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
