"""Who is calling: the API key in any of the three documented headers, checked and cached.

A successful look-up is cached for a few seconds so the hot path does not query the key table on
every request; a revocation is broadcast on the bus and drops the entry on every replica at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from app.core.bus import Bus
from app.core.crypto import hash_api_key
from resolvers.agents import liveness
from resolvers.keys import api_keys

CACHE_SECONDS = 5.0
TOUCH_EVERY_SECONDS = 60.0


@dataclass(slots=True, frozen=True)
class Caller:
    """An authenticated API key and its organization."""

    key_id: str
    organization_id: str
    plan: str
    scopes: frozenset[str]
    rate_limit: int | None
    agent_id: str | None = None


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key from `Authorization: Bearer`, `x-apaaikey` or `x-api-key`, in that order."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return headers.get("x-apaaikey") or headers.get("x-api-key") or None


class Authenticator:
    """Resolves secrets to callers with a short cache that revocations clear."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Caller, float]] = {}
        self._touched: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def listen(self, bus: Bus) -> None:
        await bus.subscribe(api_keys.REVOKED_CHANNEL, self._on_revoked)

    def _on_revoked(self, _channel: str, message: bytes) -> None:
        key_id = message.decode()
        self._cache = {h: entry for h, entry in self._cache.items() if entry[0].key_id != key_id}

    async def authenticate(self, secret: str | None) -> Caller | None:
        if not secret:
            return None
        digest = hash_api_key(secret)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached and cached[1] > now:
            self._touch(cached[0], now)
            return cached[0]
        key = await api_keys.find_active_key(secret)
        if key is None:
            return None
        caller = Caller(key.id, key.organization_id, key.organization.plan, frozenset(key.scopes), key.rate_limit,
                        key.agent_id)
        self._cache[digest] = (caller, now + CACHE_SECONDS)
        self._touch(caller, now)
        return caller

    def _touch(self, caller: Caller, now: float) -> None:
        """Record use of the key, and that its agent is alive, at most once a minute each."""
        if caller.agent_id is not None and liveness.due(caller.agent_id):
            self._spawn(liveness.seen(caller.agent_id))
        if self._touched.get(caller.key_id, 0.0) > now:
            return
        self._touched[caller.key_id] = now + TOUCH_EVERY_SECONDS
        self._spawn(api_keys.touch(caller.key_id))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
