"""How often: a fixed one-minute window per API key, in Redis when replicas share a budget.

The Redis counter is one atomic INCR with its expiry set in the same round trip, so replicas never
over-grant. If Redis cannot be reached the limiter falls back to this process's memory rather than
refusing traffic: a Redis restart must not take the API down (a documented choice).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

WINDOW_SECONDS = 60
_log = logging.getLogger("gatehouse.ratelimit")
_INCR_WITH_EXPIRY = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@dataclass(slots=True, frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix seconds when the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }

    def retry_after(self) -> int:
        return max(1, self.reset - int(time.time()))


def _verdict(count: int, limit: int, window: int) -> Verdict:
    reset = (window + 1) * WINDOW_SECONDS
    return Verdict(count <= limit, limit, max(0, limit - count), reset)


class MemoryRateLimiter:
    """Per-process counters for the embedded mode."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}

    async def hit(self, key_id: str, limit: int) -> Verdict:
        window = int(time.time()) // WINDOW_SECONDS
        if len(self._counts) > 10_000:
            self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
        count = self._counts.get((key_id, window), 0) + 1
        self._counts[(key_id, window)] = count
        return _verdict(count, limit, window)


class RedisRateLimiter:
    """One budget shared by every replica."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_INCR_WITH_EXPIRY)
        self._fallback = MemoryRateLimiter()

    async def hit(self, key_id: str, limit: int) -> Verdict:
        window = int(time.time()) // WINDOW_SECONDS
        try:
            count = int(await self._script(keys=[f"gatehouse:rl:{key_id}:{window}"], args=[WINDOW_SECONDS + 5]))
        except (aioredis.RedisError, OSError) as exc:
            _log.warning("rate limit falling back to memory: %s", exc)
            return await self._fallback.hit(key_id, limit)
        return _verdict(count, limit, window)


RateLimiter = MemoryRateLimiter | RedisRateLimiter
