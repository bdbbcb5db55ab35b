"""Worker jobs of the audit trail: the sealer (chains new entries shortly after commit) and
retention (trims entries past `audit_retention_days`)."""

from __future__ import annotations

import asyncio
import contextlib

from app.core.waiting import first_of
from app.workers import register
from resolvers.audit import retention, rows
from resolvers.audit.sealer import seal_pending
from resolvers.context import Services
from resolvers.events.outbox import OUTBOX_WAKE_CHANNEL

SEAL_POLL_SECONDS = 0.25
RETENTION_POLL_SECONDS = 3600.0


@register("audit-sealer")
async def audit_sealer(services: Services, stop: asyncio.Event) -> None:
    """Seal until stopped: woken with the outbox relay (most changes emit an event), and polling for
    the changes that emit none."""
    wake = asyncio.Event()
    sub = await services.bus.subscribe(OUTBOX_WAKE_CHANNEL, lambda _c, _m: wake.set())
    try:
        while not stop.is_set():
            wake.clear()
            if await seal_pending() >= rows.BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_of(wake, stop), SEAL_POLL_SECONDS)
    finally:
        await sub.close()


@register("audit-retention")
async def audit_retention(services: Services, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await retention.trim_expired(services.settings)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RETENTION_POLL_SECONDS)
