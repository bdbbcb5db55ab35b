"""Worker job: the outbox relay."""

from __future__ import annotations

import asyncio

from app.workers import register
from resolvers.context import Services
from resolvers.events.relay import run_relay


@register("outbox-relay")
async def outbox_relay(services: Services, stop: asyncio.Event) -> None:
    await run_relay(services, stop)
