"""Configuration from the environment: refuse to start without a secret key, deploy-clean."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET = secrets.token_urlsafe(50)  # a real-looking key: Django rejects weak ones


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py with only the given variables (no .env, no developer shell)."""
    base = {"PATH": os.environ["PATH"], "LUFFY_IGNORE_DOTENV": "1"}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("command", [["check"], ["makemigrations", "--check", "--dry-run"]])
def test_without_debug_and_secret_key_nothing_starts_and_the_message_says_why(command):
    result = manage(*command)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set and DJANGO_DEBUG is off" in result.stderr
    assert "Models aren't loaded yet" not in result.stderr


def test_development_needs_no_secret_key():
    result = manage("check", DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_production_like_environment_passes_the_deploy_checks():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="api.example.com",
        DJANGO_HSTS_PRELOAD="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
