"""Rate limits whose counting holds under concurrent requests, on every database and cache.

DRF's SimpleRateThrottle reads a request history from the cache and writes it back: requests
arriving together all read the same history, and each is let through (30 simultaneous logins
from one address: 12 to 24 evaluated against a limit of 10). Here every admission is atomic:

- when the shared cache is Redis (several app nodes, `CACHE_URL=redis://`), one MULTI/EXEC of
  `SET key 0 EX duration NX; INCR key; PTTL key`: Redis runs it as one step and no database write
  happens per request;
- otherwise one conditional UPDATE (`hits = hits + 1 ... WHERE hits < limit`) on
  `ThrottleCounter`, which MariaDB and SQLite apply one at a time (DatabaseCache's incr is a read
  followed by a write, so it cannot count concurrent requests).

Either way exactly `limit` requests pass per window. A window opens with the first request of a
key and lasts the rate's duration (`10/min`: ten requests, then none until a minute after the
first one).

When Redis cannot be reached, the count moves to the database table until it answers again: every
node falls back to the same table, so the limits still hold across nodes (the windows Redis held
start afresh, so a client may get up to one more window's worth once). Refusing every login and
SMS for the length of an outage, or admitting them all, would both be worse; the outage is
logged at ERROR, at most once a minute per process.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, transaction
from django.db.models import F
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from .logging import AtMostEvery, get_logger
from .models import ThrottleCounter

logger = get_logger("throttling")

# Rounds of "increment, reopen, create" before a request that kept losing races is refused.
_ATTEMPTS = 3
# An unreachable Redis is logged once a minute per process, not once per request.
_outage_log = AtMostEvery(60.0)


def admit(key: str, *, limit: int, duration: float, now: datetime) -> datetime | None:
    """Count one request for `key`; None if it is admitted, else when its window ends."""
    shared = caches["default"]
    if isinstance(shared, RedisCache):
        try:
            return _admit_in_redis(shared, key, limit=limit, duration=duration, now=now)
        except (RedisConnectionError, RedisTimeoutError) as error:
            if _outage_log.due():
                logger.error(
                    "Redis unreachable (%s): throttles count in the database meanwhile", error
                )
    return _admit_in_database(key, limit=limit, duration=duration, now=now)


def _admit_in_redis(
    redis_cache: RedisCache, key: str, *, limit: int, duration: float, now: datetime
) -> datetime | None:
    """One MULTI/EXEC: open the window if there is none (with its expiry), count, read the TTL.

    Django's `cache.incr` is EXISTS then INCR: a key expiring between the two would be recreated
    without an expiry and throttle that client for ever, so this talks to the cache's own Redis
    client (same connection pool, same key prefix) instead.
    """
    redis_key = redis_cache.make_key(f"throttle:{key}")
    client = redis_cache._cache.get_client(redis_key, write=True)
    window_ms = max(int(duration * 1000), 1)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(redis_key, 0, px=window_ms, nx=True)
        pipe.incr(redis_key)
        pipe.pttl(redis_key)
        _created, hits, ttl_ms = pipe.execute()
    if hits <= limit:
        return None
    return now + timedelta(milliseconds=max(ttl_ms, 0))


def _admit_in_database(key: str, *, limit: int, duration: float, now: datetime) -> datetime | None:
    """Count one request for `key` in ThrottleCounter; None if admitted, else the window's end.

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


def address_group(ident: str | None) -> str | None:
    """The key a client address is counted under: an IPv4 address as it is, an IPv6 address
    as its /64 network (written as the network's first address, still a valid IP for django-axes'
    column). One IPv6 subscriber is given a /64 or more and may use any of its 2**64 addresses:
    counting single addresses would give that one client unlimited requests. An IPv4-mapped
    address counts as its IPv4 address; anything that is no address (None for a request
    without REMOTE_ADDR) is counted as it is."""
    if not ident:
        return ident
    try:
        address = ipaddress.ip_address(ident.strip())
    except ValueError:
        return ident
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
    return str(address)


def client_ident(request) -> str | None:
    """The client as every per-address limit counts it (throttles, the login lockout): the
    address NUM_PROXIES points at (X-Forwarded-For only counts behind that many proxies),
    grouped by address_group."""
    return address_group(BaseThrottle().get_ident(request))


class FirstRefusalThrottling:
    """A view mixin: its throttles run in their order and the first refusal answers.

    DRF's own check_throttles runs every throttle even after one refused, and each counts the
    request: an address that used up its own quota still opened (or restarted) the window of
    whichever mobile number it named, and the 429's `wait` told it when, so it could keep a
    victim from ever receiving a code. Put the per-address throttle first."""

    def check_throttles(self, request) -> None:
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait())


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


class ClientIpThrottle(AtomicRateThrottle):
    """Per client address (client_ident: NUM_PROXIES decides which one, IPv6 by /64);
    subclasses set the scope."""

    def get_ident(self, request) -> str:
        return client_ident(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
