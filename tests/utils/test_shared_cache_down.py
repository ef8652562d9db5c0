"""The shop while its shared Redis cache is unreachable (CACHE_URL=redis://, Redis stopped).

Redis holds the throttles' windows and the catalog version. Before, every throttled endpoint
(login, SMS, checks) answered 500 while it was down, and so did the catalog pages once the page
cache was on, and a catalog edit committed but answered 500. These tests point Django's real Redis
cache backend at a loopback port where nothing listens: the real client, a real refused
connection, no Redis server needed.
"""

from __future__ import annotations

import logging
import socket

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from apps.course import cache as catalog_cache
from tests.factories import CourseFactory
from tests.user.helpers import MUL_LOGIN_URL
from utils import throttling
from utils.logging import AtMostEvery
from utils.models import ThrottleCounter

LIST_URL = "/api/v1/course/list/"


def closed_loopback_port() -> int:
    """A port nothing listens on: bound once by the OS's choice, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh_memory(monkeypatch):
    """What this process remembers of the catalog version and of outages starts empty."""
    monkeypatch.setattr(catalog_cache, "_memo", catalog_cache._Memo())
    monkeypatch.setattr(throttling, "_outage_log", AtMostEvery(60.0))
    monkeypatch.setattr(catalog_cache, "_outage_log", AtMostEvery(60.0))


@pytest.fixture
def redis_down():
    unreachable = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_loopback_port()}/0",
            "KEY_PREFIX": "luffy-test-down",
        },
    }
    with override_settings(CACHES=unreachable, CATALOG_CACHE_SECONDS=60):
        caches["catalog"].clear()
        yield
    caches["catalog"].clear()


def test_the_redis_fixture_really_cannot_reach_redis(redis_down):
    from redis.exceptions import ConnectionError as RedisConnectionError

    with pytest.raises(RedisConnectionError):
        caches["default"].get("anything")


@pytest.mark.django_db
def test_logins_while_redis_is_down_are_throttled_in_the_database_instead(
    redis_down, api_client, caplog
):
    # Another account each time: the address's limit is counted, not an account's lockout.
    bodies = [{"username": f"cachedown-{n}", "password": "not-the-password"} for n in range(11)]
    with caplog.at_level(logging.ERROR, logger="luffy.throttling"):
        statuses = [
            api_client.post(MUL_LOGIN_URL, body, format="json", REMOTE_ADDR="10.9.8.7").status_code
            for body in bodies
        ]
    assert statuses == [400] * 10 + [429]
    assert ThrottleCounter.objects.filter(key__contains="10.9.8.7").exists()
    # Said once, not once per request: an outage under load must not flood the log.
    outage_lines = [r for r in caplog.records if "Redis" in r.getMessage()]
    assert len(outage_lines) == 1
    assert outage_lines[0].levelno == logging.ERROR


@pytest.mark.django_db
def test_the_429_while_redis_is_down_still_says_how_long_to_wait(redis_down, api_client):
    body = {"username": "nobody-here", "password": "x"}
    for _ in range(10):
        api_client.post(MUL_LOGIN_URL, body, format="json", REMOTE_ADDR="10.9.8.6")
    refused = api_client.post(MUL_LOGIN_URL, body, format="json", REMOTE_ADDR="10.9.8.6")
    assert refused.status_code == 429
    assert refused.json()["code"] == 429
    assert 0 < refused.json()["wait"] <= 60


@pytest.mark.django_db
def test_catalog_pages_are_served_fresh_while_redis_is_down(redis_down, api_client):
    course = CourseFactory(name="缓存宕机课")
    first = api_client.get(LIST_URL)
    assert first.status_code == 200
    assert [c["name"] for c in first.json()["results"]] == ["缓存宕机课"]
    # Nothing was cached under a version nobody could read...
    assert caches["catalog"]._cache == {}
    course.name = "缓存宕机后改名"
    course.save()  # ...so an edit shows at once, although its version bump could not be stored
    again = api_client.get(LIST_URL)
    assert [c["name"] for c in again.json()["results"]] == ["缓存宕机后改名"]
    detail = api_client.get(f"{LIST_URL}{course.pk}/")
    assert detail.status_code == 200
    assert detail.json()["name"] == "缓存宕机后改名"


@pytest.mark.django_db(transaction=True)
def test_a_catalog_edit_commits_and_answers_while_redis_is_down(redis_down, caplog):
    course = CourseFactory(name="编辑前")
    with caplog.at_level(logging.ERROR, logger="luffy.course.cache"):
        course.name = "编辑后"
        course.save()  # the version bump runs on commit: it must not raise after the commit
    course.refresh_from_db()
    assert course.name == "编辑后"
    assert any("Redis" in r.getMessage() for r in caplog.records)
    # The bump is remembered and made as soon as Redis answers again (here: never).
    assert catalog_cache._memo.bump_pending


@pytest.mark.django_db
def test_a_bump_missed_during_an_outage_is_made_when_redis_answers_again():
    """With the database cache standing in for a Redis that came back."""
    catalog_cache._memo.version, catalog_cache._memo.bump_pending = "before-outage", True
    caches["default"].set(catalog_cache.VERSION_KEY, "before-outage", timeout=None)
    state = catalog_cache._current_state()
    assert state is not None
    assert not state.startswith("before-outage")
    assert caches["default"].get(catalog_cache.VERSION_KEY) != "before-outage"
    assert not catalog_cache._memo.bump_pending


@pytest.mark.django_db
def test_readiness_reports_the_cache_failed_while_redis_is_down(redis_down, api_client):
    answer = api_client.get("/health/ready/")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["cache"]["ok"] is False
    assert checks["cache"]["error"] == "ConnectionError"
    assert checks["database"]["ok"] is True
