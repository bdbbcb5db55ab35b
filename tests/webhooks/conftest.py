"""Webhook tests emit events as governance does, with Services like the server's (same Redis)."""

from __future__ import annotations

from resolvers.context import Services

_services: list[Services] = []


def server_services() -> Services:
    """A bus on the test Redis (so emit wakes the server's relay) and the test settings."""
    from app.core.bus import build_bus
    from app.core.senders import OutgoingClient
    from app.core.settings import load_settings
    from tests.conftest import DATABASE_URL, REDIS_URL

    if not _services:
        settings = load_settings(database_url=DATABASE_URL, redis_url=REDIS_URL, allow_private_targets=True,
                                 public_url="https://gatehouse.test")
        http = OutgoingClient(allow_private=True)
        _services.append(Services(settings=settings, bus=build_bus(REDIS_URL), http=http))
    return _services[0]
