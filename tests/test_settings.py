"""Configuration from the environment: refuse to start without a secret key, deploy-clean, a
copied .env.example is safe in production, the development key is per checkout."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from luffy_api.dev_secret import load_or_create_dev_secret_key

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


# Production keeps paid videos on Qiniu's private bucket (media.W001 otherwise).
QINIU_PRIVATE = {
    "QINIU_ACCESS_KEY": "ak",
    "QINIU_SECRET_KEY": "sk",
    "QINIU_BUCKET": "luffy",
    "QINIU_DOMAIN": "https://video.example.com",
}


def test_production_like_environment_passes_the_deploy_checks():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="api.example.com",
        DJANGO_HSTS_PRELOAD="true",
        **QINIU_PRIVATE,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("media", "warning"),
    [({}, "media.W001"), ({**QINIU_PRIVATE, "QINIU_PRIVATE_BUCKET": "false"}, "media.W002")],
)
def test_production_with_paid_videos_anyone_could_fetch_warns_at_start_up(media, warning):
    env = {"DJANGO_SECRET_KEY": SECRET, "DJANGO_ALLOWED_HOSTS": "api.example.com", **media}
    result = manage("check", **env)
    assert result.returncode == 0, result.stderr  # a warning: the shop still starts
    assert f"({warning})" in result.stderr
    assert manage("check", "--fail-level", "WARNING", **env).returncode != 0


# --- What a copied .env.example gives ---------------------------------------------------------

README_PRODUCTION_EXPORTS = {
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "mysql://luffy:secret@db:3306/luffy",
    "SITE_URL": "https://api.example.com",
    "CORS_ALLOWED_ORIGINS": "https://www.example.com",
}

SHOW_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "RENDERERS": settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],
    "ALIPAY_SANDBOX": settings.ALIPAY_SANDBOX,
    "ACCESS_MINUTES": settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() / 60,
    "AXES_COOLOFF_MINUTES": settings.AXES_COOLOFF_TIME.total_seconds() / 60,
    "AXES_FAILURE_LIMIT": settings.AXES_FAILURE_LIMIT,
    "SECRET_KEY": settings.SECRET_KEY,
}))
"""


def settings_with(env: dict[str, str]) -> dict:
    result = manage("shell", "-c", SHOW_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_env_example_plus_the_readme_production_exports_is_production():
    """What `cp .env.example .env` and the README's exports give. python-dotenv fills in what
    the environment lacks (override=False): the same as this merge."""
    from_file = dotenv_values(ROOT / ".env.example")
    shown = settings_with({**from_file, **README_PRODUCTION_EXPORTS})

    assert shown["DEBUG"] is False
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["CSRF_COOKIE_SECURE"] is True
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["RENDERERS"] == ["rest_framework.renderers.JSONRenderer"]
    assert shown["ALIPAY_SANDBOX"] is False
    assert shown["ACCESS_MINUTES"] == 15


def test_env_example_sets_nothing_that_turns_development_on():
    values = dotenv_values(ROOT / ".env.example")
    for name in ("DJANGO_DEBUG", "ALIPAY_SANDBOX", "SERVE_MEDIA"):
        assert (values.get(name) or "false").lower() in {"false", "0", "no", "off"}, name


def test_lockout_and_token_lifetimes_come_from_the_environment():
    shown = settings_with(
        {
            "DJANGO_SECRET_KEY": SECRET,
            "JWT_ACCESS_MINUTES": "5",
            "ADMIN_LOGIN_COOLOFF_MINUTES": "45",
            "ADMIN_LOGIN_FAILURE_LIMIT": "4",
        }
    )
    assert shown["ACCESS_MINUTES"] == 5
    assert shown["AXES_COOLOFF_MINUTES"] == 45
    assert shown["AXES_FAILURE_LIMIT"] == 4


# --- The development secret key -----------------------------------------------------------------


def test_two_checkouts_get_different_development_keys(tmp_path):
    first = load_or_create_dev_secret_key(tmp_path / "one" / ".tmp" / "dev-secret-key")
    second = load_or_create_dev_secret_key(tmp_path / "two" / ".tmp" / "dev-secret-key")

    assert first != second
    assert len(first) >= 50 and len(second) >= 50


def test_the_development_key_survives_a_restart_and_only_its_owner_reads_it(tmp_path):
    path = tmp_path / ".tmp" / "dev-secret-key"
    key = load_or_create_dev_secret_key(path)

    assert load_or_create_dev_secret_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_processes_starting_together_agree_on_one_key(tmp_path):
    """runserver's autoreloader starts a second process at once; both must sign alike."""
    path = tmp_path / "dev-secret-key"
    code = (
        "import sys; from pathlib import Path; "
        "from luffy_api.dev_secret import load_or_create_dev_secret_key as f; "
        "print(f(Path(sys.argv[1])))"
    )
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", code, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    keys = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert keys == {path.read_text().strip()}


def test_development_server_uses_the_checkout_key_not_one_written_in_the_source():
    first = settings_with({"DJANGO_DEBUG": "true"})["SECRET_KEY"]
    second = settings_with({"DJANGO_DEBUG": "true"})["SECRET_KEY"]

    assert first == second == (ROOT / ".tmp" / "dev-secret-key").read_text().strip()
    assert first not in (ROOT / "luffy_api" / "settings.py").read_text()
    assert "django-insecure" not in (ROOT / "luffy_api" / "settings.py").read_text()
