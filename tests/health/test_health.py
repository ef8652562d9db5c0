"""/health/ (liveness) and /health/ready/ (readiness) answer JSON 200, or 503 when a dependency
really fails: the checks run against a real broken dependency, not a stub."""

from __future__ import annotations

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

LIVE, READY = "/health/", "/health/ready/"


def test_liveness_answers_200_without_touching_the_database():
    # No django_db mark: any query here would fail the test outright.
    response = Client().get(LIVE)
    assert response.status_code == 200
    assert response.json() == {"code": 100, "msg": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readiness_answers_200_when_database_migrations_cache_storage_and_search_answer():
    response = Client().get(READY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == 100 and body["msg"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "cache", "storage", "search"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readiness_is_503_while_a_migration_is_not_applied():
    latest = MigrationRecorder.Migration.objects.filter(app="order").order_by("-id").first()
    latest.delete()  # as if this node's code were newer than the database (rolled back after)
    response = Client().get(READY)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == 503 and body["msg"] == "not ready: migrations"
    assert body["checks"]["migrations"] == {
        "ok": False,
        "ms": body["checks"]["migrations"]["ms"],
        "error": "MigrationsPending",
    }
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readiness_is_503_when_the_shared_cache_is_unreachable(settings):
    # A Redis nobody listens on (port 9 is discard, closed on loopback): the real client fails.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        },
    }
    response = Client().get(READY)
    assert response.status_code == 503
    body = response.json()
    assert body["msg"] == "not ready: cache"
    assert body["checks"]["cache"]["error"] == "ConnectionError"


@pytest.mark.django_db
def test_readiness_is_503_when_media_storage_is_not_a_writable_folder(settings, tmp_path):
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(not_a_folder)
    response = Client().get(READY)
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == {
        "ok": False,
        "ms": response.json()["checks"]["storage"]["ms"],
        "error": "FileExistsError",
    }


@pytest.mark.parametrize("url", [LIVE, READY])
def test_health_refuses_writes_with_the_405_envelope(url):
    response = Client().post(url)
    assert response.status_code == 405
    assert response.json() == {"code": 405, "msg": "方法不允许"}


@pytest.mark.django_db
def test_readiness_runs_its_checks_once_per_period_for_a_burst(settings, monkeypatch):
    """Before: every request ran every check (a migration plan, a cache write, a storage
    write: a Qiniu call in production), for anyone who asked."""
    from apps.health import checks, views

    settings.HEALTH_READY_CACHE_SECONDS = 5
    runs = []
    monkeypatch.setattr(views, "run_checks", lambda: runs.append(1) or checks.run_checks())
    monkeypatch.setattr(views, "recent_checks", views.RecentChecks())

    answers = [Client().get(READY) for _ in range(20)]

    assert [a.status_code for a in answers] == [200] * 20
    assert len(runs) == 1
    clock = views.time.monotonic() + 6
    monkeypatch.setattr(views.time, "monotonic", lambda: clock)
    assert Client().get(READY).status_code == 200
    assert len(runs) == 2  # a few seconds later it is checked again
