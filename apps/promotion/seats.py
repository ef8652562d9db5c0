"""The flash-sale gate in Redis, when the shared cache is Redis (several app nodes).

Each sale keeps two keys next to the cache's: the seats left and the set of buyers holding one.
Taking a seat is one Lua script (Redis runs it as one step), so two nodes never hand out the
same seat and a buyer never gets two; a burst of buyers is answered "sold out" from Redis
without touching the database. The database stays the truth (services.py takes the seat there
too, conditionally): the gate only keeps the crowd away from it. Without Redis, or when it
cannot be reached, every buyer goes to the database.
"""

from __future__ import annotations

from enum import IntEnum

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from utils.logging import get_logger

logger = get_logger("promotion")

# KEYS: seats left, holders. ARGV: buyer id, seats left in the database (used when the counter
# is missing: first buyer, or Redis lost it), expiry in seconds.
_TAKE = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return -2 end
redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3])
if tonumber(redis.call('GET', KEYS[1])) <= 0 then return -1 end
redis.call('DECR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 0
"""
# ARGV: buyer id, 1 to give the seat back to the counter (0: the database said sold out).
_GIVE_BACK = """
local was_holder = redis.call('SREM', KEYS[2], ARGV[1]) == 1
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '0' then
  redis.call('SET', KEYS[1], 0, 'KEEPTTL')
elseif was_holder then
  redis.call('INCR', KEYS[1])
end
return 0
"""
_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class Gate(IntEnum):
    TAKEN = 0
    SOLD_OUT = -1
    HOLDING = -2
    NO_REDIS = 1  # no Redis, or unreachable: the database decides alone


def _redis() -> RedisCache | None:
    shared = caches["default"]
    return shared if isinstance(shared, RedisCache) else None


def _keys(sale_id: int) -> tuple[str, str]:
    shared = caches["default"]
    return shared.make_key(f"flash:{sale_id}:left"), shared.make_key(f"flash:{sale_id}:holders")


def _client(redis_cache: RedisCache, key: str):
    # The cache's own Redis client (same pool, same key prefix): Django's cache API has no
    # scripts, as utils/throttling.py explains for its MULTI/EXEC.
    return redis_cache._cache.get_client(key, write=True)


def take(sale_id: int, buyer_id: int, *, seats_left: int, ttl_seconds: int) -> Gate:
    redis_cache = _redis()
    if redis_cache is None:
        return Gate.NO_REDIS
    keys = _keys(sale_id)
    try:
        answer = _client(redis_cache, keys[0]).eval(
            _TAKE, 2, *keys, buyer_id, seats_left, max(ttl_seconds, 1)
        )
    except _REDIS_DOWN as error:
        logger.warning(
            "Redis unreachable (%s): flash sale %s sells from the database", error, sale_id
        )
        return Gate.NO_REDIS
    return Gate(int(answer))


def give_back(sale_id: int, buyer_id: int, *, sold_out: bool = False) -> None:
    """The buyer's seat returns to the counter; with `sold_out` (the database had none left
    although Redis did) the counter is set to 0 instead, so the crowd stops at Redis again."""
    redis_cache = _redis()
    if redis_cache is None:
        return
    keys = _keys(sale_id)
    try:
        _client(redis_cache, keys[0]).eval(_GIVE_BACK, 2, *keys, buyer_id, "0" if sold_out else "1")
    except _REDIS_DOWN as error:
        # The counter is short by one until it expires; the database still sells the seat.
        logger.warning(
            "Redis unreachable (%s): flash seat of %s not given back there", error, buyer_id
        )
