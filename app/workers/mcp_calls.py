"""Worker job: forward gateway calls once a human approves them (resolvers/mcp/calls.py)."""

from __future__ import annotations

import asyncio

from app.workers import register
from resolvers.context import Services
from resolvers.events.outbox import EVENTS_CHANNEL
from resolvers.mcp.calls import run_forwarder


@register("mcp_calls")
async def forward_approved_calls(services: Services, stop: asyncio.Event) -> None:
    wake = asyncio.Event()
    subscription = await services.bus.subscribe(EVENTS_CHANNEL, lambda _c, m: wake.set() if b"action.approved" in m
                                                else None)
    try:
        await run_forwarder(services, stop, wake)
    finally:
        await subscription.close()
