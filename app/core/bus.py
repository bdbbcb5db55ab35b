"""The event bus: Redis pub/sub in production, in-process in the embedded mode.

Each process holds ONE Redis subscription connection, whatever the number of local listeners;
messages are routed to listeners in memory by channel name. Handlers are plain callables run on
the event loop: they must not block (typically they put the message on a bounded queue).
A lost Redis connection is re-established with back-off and every channel re-subscribed; a
publish that fails is logged and dropped, because every consumer also has a database path
(polling, replay) and Redis is allowed to restart without losing data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable

import redis.asyncio as aioredis

Handler = Callable[[str, bytes], None]
# Every Redis command answers within this or fails: a Redis that accepts connections but never
# replies must not hang a request (the rate limiter falls back to memory, publishes are dropped).
# The subscription reader polls with its own 1 s timeout.
REDIS_TIMEOUT_SECONDS = 2.0
_log = logging.getLogger("gatehouse.bus")


class Subscription:
    """A handle that removes one listener when closed."""

    def __init__(self, bus: Bus, channel: str, handler: Handler) -> None:
        self._bus, self.channel, self.handler = bus, channel, handler

    async def close(self) -> None:
        await self._bus._remove(self)


class Bus:
    """In-process bus; the base of the Redis one, which only changes transport."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Subscription]] = defaultdict(set)
        self._reconnected: list[Callable[[], None]] = []

    async def start(self) -> None:
        """Open connections; the in-process bus has none."""

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time the bus is back after losing its connection (what was published
        meanwhile did not arrive); the in-process bus never loses one."""
        self._reconnected.append(callback)

    async def close(self) -> None:
        self._listeners.clear()

    async def publish(self, channel: str, message: bytes) -> None:
        self._dispatch(channel, message)

    async def subscribe(self, channel: str, handler: Handler) -> Subscription:
        sub = Subscription(self, channel, handler)
        self._listeners[channel].add(sub)
        return sub

    async def ping(self) -> bool:
        return True

    async def _remove(self, sub: Subscription) -> None:
        listeners = self._listeners.get(sub.channel)
        if listeners is not None:
            listeners.discard(sub)
            if not listeners:
                del self._listeners[sub.channel]

    def _dispatch(self, channel: str, message: bytes) -> None:
        for sub in tuple(self._listeners.get(channel, ())):
            try:
                sub.handler(channel, message)
            except Exception:
                _log.exception("bus handler failed on %s", channel)


class RedisBus(Bus):
    """Fan-out through Redis so every replica sees every message."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._prefix = wire_channel(url, "")
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed: set[str] = set()
        self._lock = asyncio.Lock()
        self._dropping = False  # publishes are failing (Redis away): logged once until one succeeds

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read_forever(), name="bus-reader")

    async def close(self) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self.redis.aclose()
        await super().close()

    async def publish(self, channel: str, message: bytes) -> None:
        try:
            await self.redis.publish(self._prefix + channel, message)
        except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as exc:
            if not self._dropping:  # one line an outage, not one a publish (a probe counted 982 in 8 s)
                _log.warning("bus publish to %s dropped: %s; later drops are not logged until one succeeds",
                             channel, exc)
            self._dropping = True
            return
        if self._dropping:
            self._dropping = False
            _log.warning("bus publishes succeed again")

    async def subscribe(self, channel: str, handler: Handler) -> Subscription:
        sub = await super().subscribe(channel, handler)
        async with self._lock:
            if channel not in self._subscribed:
                self._subscribed.add(channel)
                await self._send_subscribe(channel)
        return sub

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (aioredis.RedisError, OSError):
            return False

    async def _remove(self, sub: Subscription) -> None:
        await super()._remove(sub)
        async with self._lock:
            if sub.channel not in self._listeners and sub.channel in self._subscribed:
                self._subscribed.discard(sub.channel)
                if self._pubsub is not None:
                    with contextlib.suppress(aioredis.RedisError, OSError):
                        await self._pubsub.unsubscribe(self._prefix + sub.channel)

    async def _send_subscribe(self, channel: str) -> None:
        if self._pubsub is None:
            return  # the reader subscribes everything when it (re)connects
        with contextlib.suppress(aioredis.RedisError, OSError):
            await self._pubsub.subscribe(self._prefix + channel)

    async def _read_forever(self) -> None:
        delay, lost = 0.1, False
        while True:
            try:
                await self._connect()
                delay = 0.1
                if lost:
                    lost = False
                    self._told_reconnected()
                await self._pump()
            except asyncio.CancelledError:
                raise
            except (aioredis.RedisError, OSError) as exc:
                _log.warning("bus connection lost (%s); retrying in %.1fs", exc, delay)
            lost = True
            self._pubsub = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _told_reconnected(self) -> None:
        for callback in self._reconnected:
            try:
                callback()
            except Exception:
                _log.exception("bus reconnect callback failed")

    async def _connect(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        async with self._lock:
            await pubsub.subscribe(*(self._prefix + c for c in ("gatehouse:bus:keepalive", *self._subscribed)))
            self._pubsub = pubsub

    async def _pump(self) -> None:
        assert self._pubsub is not None
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            name = channel.decode() if isinstance(channel, bytes) else str(channel)
            self._dispatch(name.removeprefix(self._prefix), message["data"])


def wire_channel(redis_url: str, channel: str) -> str:
    """The Redis channel a bus channel travels on.

    Redis pub/sub ignores the database number, so channels are prefixed with it: deployments (or
    test suites) sharing one Redis server on different databases do not hear each other.
    """
    db = aioredis.ConnectionPool.from_url(redis_url).connection_kwargs.get("db", 0)
    return f"db{db}:{channel}"


def build_bus(redis_url: str | None) -> Bus:
    """The bus for this process: Redis when configured, otherwise in-process."""
    return RedisBus(redis_url) if redis_url else Bus()
