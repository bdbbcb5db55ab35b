"""How often: a fixed one-minute window per API key, in Redis when replicas share a budget.

The Redis counter is one atomic INCR with its expiry set in the same round trip, so replicas never
over-grant. Hits that arrive while a round trip is in flight are sent together as the next one (one
script call INCRs every key of the batch): every hit is still counted exactly once, but a loaded
process pays one Redis call per batch instead of one per request (measured: the per-request call was
8-14% of a proposal's CPU). The keys of one batch may belong to different hash slots, so this needs
a single Redis server, not Redis Cluster. If Redis cannot be reached, or does not answer within the
bus's command timeout, the limiter falls back to this process's memory rather than refusing
traffic, and stays there for REDIS_RETRY_SECONDS before trying Redis again, so a silent Redis costs
one timeout every few seconds, not one per request: a Redis restart must not take the API down (a
documented choice). The round trips go over a connection of the limiter's own, written and read
without redis-py's per-command path (app/core/redis_wire.py: after an idle moment 0.24 ms instead
of 0.64-0.69 on a slow host, at low concurrency on every request).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from app.core.redis_wire import lean_connection

WINDOW_SECONDS = 60
REDIS_RETRY_SECONDS = 5.0  # how long a failed Redis round trip sends every hit to memory
_log = logging.getLogger("gatehouse.ratelimit")
_INCR_WITH_EXPIRY = """
local counts = {}
for i, key in ipairs(KEYS) do
    local n = redis.call('INCR', key)
    if n == 1 then redis.call('EXPIRE', key, ARGV[1]) end
    counts[i] = n
end
return counts
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

    def close(self) -> None:
        """Nothing is held."""


class RedisRateLimiter:
    """One budget shared by every replica; concurrent hits share a round trip."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._wire = lean_connection(redis)  # one round trip at a time: _send_batches
        # a URL the own connection does not open (TLS, a Unix socket) counts through the client's script
        self._script = redis.register_script(_INCR_WITH_EXPIRY) if self._wire is None else None
        self._fallback = MemoryRateLimiter()
        self._waiting: list[tuple[str, asyncio.Future[int]]] = []
        self._sending: asyncio.Task[None] | None = None
        self._redis_down_until = 0.0  # after a failed round trip, memory alone for a while

    async def hit(self, key_id: str, limit: int) -> Verdict:
        if time.monotonic() < self._redis_down_until:
            return await self._fallback.hit(key_id, limit)
        window = int(time.time()) // WINDOW_SECONDS
        counted = asyncio.get_running_loop().create_future()
        self._waiting.append((f"gatehouse:rl:{key_id}:{window}", counted))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send_batches())
        try:
            count = await counted
        except (aioredis.RedisError, OSError) as exc:
            if time.monotonic() >= self._redis_down_until:
                _log.warning("rate limit falling back to memory for %ss: %s", REDIS_RETRY_SECONDS, exc)
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return await self._fallback.hit(key_id, limit)
        return _verdict(count, limit, window)

    def close(self) -> None:
        """Close the limiter's own connection (the client's pool is the bus's to close)."""
        if self._wire is not None:
            self._wire.close()

    async def _send_batches(self) -> None:
        """Send what waits, one batch per round trip, until nothing does."""
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    answer = await self._incr([key for key, _ in batch])
                    counts = [int(count) for count in answer]
                    if len(counts) != len(batch):
                        raise aioredis.ResponseError(f"{len(counts)} counts for {len(batch)} hits")
                except (aioredis.RedisError, OSError) as exc:
                    _fail(batch, exc)
                    continue
                except BaseException as exc:  # cancelled, or an unexpected answer: no hit may hang
                    _fail(batch, aioredis.RedisError(f"rate limit round trip failed: {exc!r}"))
                    raise
                for (_, counted), count in zip(batch, counts, strict=True):
                    if not counted.done():  # its request may have been cancelled meanwhile
                        counted.set_result(count)
        finally:
            self._sending = None
            if self._waiting:  # only when stopped early (py-spy: building it after every batch was 0.2% of a request)
                _fail(self._waiting, aioredis.RedisError("rate limiter stopped"))
                self._waiting = []

    async def _incr(self, keys: list[str]) -> list[int]:
        """Count one hit on each key (the script's answer: each key's count)."""
        expiry = WINDOW_SECONDS + 5
        if self._script is not None:
            return await self._script(keys=keys, args=[expiry])  # type: ignore[no-any-return]
        assert self._wire is not None
        answer: list[int] = await self._wire.call("EVAL", _INCR_WITH_EXPIRY, len(keys), *keys, expiry)
        return answer


def _fail(batch: list[tuple[str, asyncio.Future[int]]], exc: BaseException) -> None:
    for _, counted in batch:
        if not counted.done():
            counted.set_exception(exc)


RateLimiter = MemoryRateLimiter | RedisRateLimiter
