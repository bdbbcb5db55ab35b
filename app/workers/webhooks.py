"""Worker job: the webhook dispatcher.

Keeps up to `webhook_concurrency` deliveries in flight: claims as many as there are free slots,
sends each in its own task, and claims again when a slot frees. It is woken through the bus when
deliveries are created and polls every POLL_SECONDS anyway, so a Redis outage only adds latency.
"""

from __future__ import annotations

import asyncio
import contextlib

from app.core.senders import WebhookSender
from app.logs import get_logger
from app.workers import register
from resolvers.context import Services
from resolvers.webhooks import fanout
from resolvers.webhooks.dispatch import Claimed, claim_due, deliver

POLL_SECONDS = 0.5
_log = get_logger("gatehouse.webhooks")


def build_sender(services: Services) -> WebhookSender:
    settings = services.settings
    return WebhookSender(
        allow_private=settings.allow_private_targets,
        timeout=settings.webhook_timeout_seconds,
        max_connections=settings.webhook_concurrency,
    )


async def _deliver_logged(services: Services, sender: WebhookSender, claimed: Claimed) -> None:
    try:
        await deliver(services, sender, claimed)
    except Exception:  # the claim expires and another attempt is made: log, do not crash the loop
        _log.exception("webhook delivery failed unexpectedly")


@register("webhook-dispatcher")
async def webhook_dispatcher(services: Services, stop: asyncio.Event) -> None:
    sender = build_sender(services)
    wake, slot_free = asyncio.Event(), asyncio.Event()
    in_flight: set[asyncio.Task[None]] = set()
    sub = await services.bus.subscribe(fanout.WAKE_CHANNEL, lambda _c, _m: wake.set())

    refill_at = services.settings.webhook_concurrency // 2  # claim in batches, not one per completion

    def finished(task: asyncio.Task[None]) -> None:
        in_flight.discard(task)
        if len(in_flight) <= refill_at:
            slot_free.set()

    try:
        while not stop.is_set():
            wake.clear()
            slot_free.clear()
            free = services.settings.webhook_concurrency - len(in_flight)
            batch = await claim_due(services, free) if free else []
            for claimed in batch:
                task = asyncio.create_task(_deliver_logged(services, sender, claimed))
                in_flight.add(task)
                task.add_done_callback(finished)
            saturated = free == 0 or len(batch) == free
            await _wait_any(slot_free if saturated else wake, stop)
    finally:
        await sub.close()
        if in_flight:
            await asyncio.wait(in_flight, timeout=services.settings.webhook_timeout_seconds)
        await sender.close()


async def _wait_any(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED), POLL_SECONDS)
    finally:
        for waiter in waiters:
            waiter.cancel()
