"""Open and close the process-wide services (database, bus, HTTP client) for server and worker."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from app.core.bus import RedisBus, build_bus
from app.core.keys import load_keyring
from app.core.senders import OutgoingClient
from app.core.settings import Settings
from app.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from models.db import close_database, migrate, open_database, release_database
from resolvers.context import Services


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Connect everything; the embedded mode also brings its SQLite schema up to date."""
    keyring = load_keyring(settings)  # first: a missing production key stops before any connection
    if settings.is_sqlite:
        await migrate(settings)
        await close_database()
    await open_database(settings)
    bus = build_bus(settings.redis_url)
    await bus.start()
    http = OutgoingClient(allow_private=settings.allow_private_targets)
    services = Services(settings=settings, bus=bus, http=http, keyring=keyring)
    try:
        yield services
    finally:
        await http.aclose()
        await bus.close()
        await release_database()


def build_rate_limiter(services: Services) -> RateLimiter:
    """Shared counters in Redis when there is one, this process's memory otherwise."""
    if isinstance(services.bus, RedisBus):
        return RedisRateLimiter(services.bus.redis)
    return MemoryRateLimiter()
