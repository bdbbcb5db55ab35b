"""Worker job: forward gateway calls once a human approves them (resolvers/mcp/calls.py), woken by
the relay when a batch decides actions, and looking every second anyway."""

from __future__ import annotations

import asyncio

from app.workers import register
from resolvers.context import Services
from resolvers.mcp.calls import FORWARD_WAKE_CHANNEL, run_forwarder


@register("mcp_calls")
async def forward_approved_calls(services: Services, stop: asyncio.Event) -> None:
    wake = asyncio.Event()
    subscription = await services.bus.subscribe(FORWARD_WAKE_CHANNEL, lambda _c, _m: wake.set())
    try:
        await run_forwarder(services, stop, wake)
    finally:
        await subscription.close()
