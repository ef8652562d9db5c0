"""The shared cache on Redis (CACHE_URL=redis://…): what several app nodes rely on.

The tests marked `redis` run when the suite is handed a Redis (`make test-redis` sets
TEST_CACHE_URL from `scripts/redis.sh`); on the embedded cache they are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.course import cache as catalog_cache
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
LOGIN_URL = "/api/v1/user/user/mul_login/"
ON_REDIS = settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
needs_redis = [
    pytest.mark.redis,
    pytest.mark.skipif(not ON_REDIS, reason="no Redis given (make test-redis runs these)"),
]


def cache_backend(cache_url: str | None) -> subprocess.CompletedProcess[str]:
    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c.get('LOCATION'))"  # noqa: E501
    env = {
        "PATH": os.environ["PATH"],
        "LUFFY_IGNORE_DOTENV": "1",
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "luffy_api.settings",
    }
    if cache_url is not None:
        env["CACHE_URL"] = cache_url
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_redis_cache_url_selects_djangos_own_redis_backend():
    result = cache_backend("redis://127.0.0.1:6391/2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6391/2",
    ]


def test_the_default_shared_cache_stays_the_database_table():
    result = cache_backend(None)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.db.DatabaseCache", "luffy_cache"]


def test_an_unknown_cache_url_refuses_to_start_and_names_the_choices():
    result = cache_backend("memcached://127.0.0.1:11211")
    assert result.returncode != 0
    assert "CACHE_URL must be db://, locmem:// or redis://host:port/db" in result.stderr


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    yield client
    client.close()


@pytest.mark.django_db
class TestOnRedis:
    pytestmark = needs_redis

    def test_a_value_cached_by_django_is_stored_in_the_redis_server(self, redis_client):
        cache.set("deploy-probe", "from-django", timeout=30)
        keys = [k.decode() for k in redis_client.keys("*deploy-probe*")]
        assert len(keys) == 1 and keys[0].startswith("luffy:")
        assert 0 < redis_client.ttl(keys[0]) <= 30

    def test_login_throttle_answers_429_past_the_limit_on_the_redis_cache(self):
        # Behaviour only: where the counter lives (cache or its own table) is the throttle's
        # business; with the shared cache on Redis the limit still holds.
        # Another account each time: the address's limit, not one account's lockout.
        client = APIClient()
        statuses = [
            client.post(
                LOGIN_URL, {"username": f"nobody-{n}", "password": "wrong"}, format="json"
            ).status_code
            for n in range(11)
        ]
        assert statuses == [400] * 10 + [429]

    def test_a_catalog_change_bumps_the_version_every_node_reads_from_redis(self, redis_client):
        before = cache.get(catalog_cache.VERSION_KEY)
        catalog_cache.bump_catalog_version()
        after = cache.get(catalog_cache.VERSION_KEY)
        assert after and after != before
        assert redis_client.keys(f"*{catalog_cache.VERSION_KEY}*")

    def test_throttle_counts_live_in_redis_not_in_the_database(self, redis_client):
        from utils.models import ThrottleCounter

        user = UserFactory()
        client = APIClient()
        wrong = {"username": user.username, "password": "wrong-password"}
        for _ in range(3):
            client.post(LOGIN_URL, wrong, format="json")
        assert not ThrottleCounter.objects.exists()
        keys = redis_client.keys("*throttle:*login*")
        assert len(keys) == 1
        assert int(redis_client.get(keys[0])) == 3
        assert 0 < redis_client.pttl(keys[0]) <= 60_000

    def test_simultaneous_requests_on_redis_admit_exactly_the_limit(self):
        from concurrent.futures import ThreadPoolExecutor
        from datetime import UTC, datetime
        from threading import Barrier

        from utils.throttling import admit

        barrier = Barrier(30)

        def one(_: int) -> bool:
            barrier.wait()
            now = datetime.now(tz=UTC)
            return admit("burst-on-redis", limit=10, duration=60, now=now) is None

        with ThreadPoolExecutor(max_workers=30) as pool:
            admitted = list(pool.map(one, range(30)))
        assert admitted.count(True) == 10

    def test_a_redis_window_ends_with_its_expiry_and_the_next_one_opens(self):
        import time
        from datetime import UTC, datetime

        from utils.throttling import admit

        def now():
            return datetime.now(tz=UTC)

        assert admit("short-window", limit=1, duration=0.5, now=now()) is None
        refused_until = admit("short-window", limit=1, duration=0.5, now=now())
        assert refused_until is not None
        assert 0 < (refused_until - now()).total_seconds() <= 0.5
        time.sleep(0.6)
        assert admit("short-window", limit=1, duration=0.5, now=now()) is None
