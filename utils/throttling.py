"""Rate limits whose counting holds under concurrent requests, on every database and cache.

DRF's SimpleRateThrottle reads a request history from the cache and writes it back: requests
arriving together all read the same history, and each is let through (30 simultaneous logins
from one address: 12 to 24 evaluated against a limit of 10). Here every admission is one
conditional UPDATE (`hits = hits + 1 ... WHERE hits < limit`) on `ThrottleCounter`, which MariaDB
and SQLite apply one at a time, so exactly `limit` requests pass per window whatever the cache
backend is. A window opens with the first request of a key and lasts the rate's duration
(`10/min`: ten requests, then none until a minute after the first one).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework.throttling import SimpleRateThrottle

from .models import ThrottleCounter

# Rounds of "increment, reopen, create" before a request that kept losing races is refused.
_ATTEMPTS = 3


def admit(key: str, *, limit: int, duration: float, now: datetime) -> datetime | None:
    """Count one request for `key`; None if it is admitted, else when its window ends.

    Races with every other request for the same key: each step below is a single statement
    that only one of them can win, and a loser goes round again.
    """
    counters = ThrottleCounter.objects.filter(key=key)
    ends_at = now + timedelta(seconds=duration)
    for _ in range(_ATTEMPTS):
        if counters.filter(expires_at__gt=now, hits__lt=limit).update(hits=F("hits") + 1):
            return None
        if counters.filter(expires_at__lte=now).update(hits=1, expires_at=ends_at):
            return None  # the old window was over: this request opens the next one
        current = counters.values_list("hits", "expires_at").first()
        if current is None:
            try:
                with transaction.atomic():  # a savepoint when the caller is in a transaction
                    ThrottleCounter.objects.create(key=key, hits=1, expires_at=ends_at)
            except IntegrityError:
                continue  # another request opened the window first
            # Each key leaves one row behind; whoever opens a window sweeps the finished ones.
            ThrottleCounter.objects.filter(expires_at__lt=now).delete()
            return None
        hits, expires_at = current
        if hits >= limit and expires_at > now:
            return expires_at
    return ends_at  # contended on every round: refuse rather than count past the limit


class AtomicRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle (rates, scopes, cache keys) counted by `admit`. Subclasses set
    `scope` and `get_cache_key`; the 429 envelope carries `wait`, the seconds until the window
    ends."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.window_ends_at = admit(
            self.key,
            limit=self.num_requests,
            duration=self.duration,
            now=datetime.fromtimestamp(self.now, tz=UTC),
        )
        return self.window_ends_at is None

    def wait(self) -> float | None:
        ends_at = getattr(self, "window_ends_at", None)
        if ends_at is None:
            return None
        return max(ends_at.timestamp() - self.now, 0.0)
