"""Worker job: the notification sender (a shell around resolvers/notifications/delivery.py).

Woken through the bus when the relay creates notifications, and polling every POLL_SECONDS so a
Redis outage or a due retry only waits that long. Up to BATCH notices are sent side by side; a
slow or failing channel only holds its own notice, never a decision (those committed long before).
"""

from __future__ import annotations

import asyncio
import contextlib

from app.core.waiting import first_of
from app.workers import register
from resolvers.context import Services
from resolvers.notifications import fanout
from resolvers.notifications.delivery import lease_due, send

POLL_SECONDS = 1.0
BATCH = 20


@register("notification-sender")
async def notification_sender(services: Services, stop: asyncio.Event) -> None:
    wake = asyncio.Event()
    sub = await services.bus.subscribe(fanout.WAKE_CHANNEL, lambda _c, _m: wake.set())
    try:
        while not stop.is_set():
            wake.clear()
            batch = await lease_due(services, BATCH)
            if batch:
                await asyncio.gather(*(send(services, due) for due in batch))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_of(wake, stop), POLL_SECONDS)
    finally:
        await sub.close()
