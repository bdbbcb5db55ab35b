"""Worker job: expire pending actions whose deadline has passed."""

from __future__ import annotations

import asyncio
import contextlib

from app.workers import register
from resolvers.context import Services
from resolvers.governance.expiry import BATCH_SIZE, expire_due

POLL_SECONDS = 0.5


@register("action-expiry")
async def action_expiry(services: Services, stop: asyncio.Event) -> None:
    """Poll for overdue actions; a full batch means more may be waiting, so go again at once."""
    while not stop.is_set():
        if await expire_due(services) >= BATCH_SIZE:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_SECONDS)
