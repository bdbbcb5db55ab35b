"""Worker job: the webhook dispatcher.

Keeps up to `webhook_concurrency` deliveries in flight: claims a batch whenever half the slots are
free, sends each in its own task, and hands results to one recorder that writes them in batches
(one transaction for all that finished meanwhile), because per-delivery transactions, not HTTP,
were the cost. It is woken through the bus when deliveries are created and polls every
POLL_SECONDS anyway, so a Redis outage only adds latency. A crash between a send and its record
leaves the claim to expire: the delivery is sent again with the same id (at least once).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from app.core.senders import WebhookSender
from app.core.settings import Settings
from app.logs import get_logger
from app.workers import register
from resolvers.context import Services
from resolvers.webhooks import fanout
from resolvers.webhooks.dispatch import (
    Claimed,
    Outcome,
    attempt,
    claim_due,
    record_batch,
    sendable,
    settle_unsendable,
)
from resolvers.webhooks.freshness import CHANGED_CHANNEL, Freshness

POLL_SECONDS = 0.5
QUEUED_BATCHES, LEASE_BATCHES = 8, 4  # of `webhook_concurrency` deliveries: see webhook_dispatcher
_log = get_logger("gatehouse.webhooks")
Result = tuple[Claimed, Outcome]


def build_sender(services: Services) -> WebhookSender:
    settings = services.settings
    return WebhookSender(
        allow_private=settings.allow_private_targets,
        timeout=settings.webhook_timeout_seconds,
        max_connections=settings.webhook_concurrency,
    )


def sending_time(settings: Settings) -> float:
    """How long after its lease was asked for a queued delivery may still be sent: its lease
    (`webhook_claim_seconds`) less the longest send (`webhook_timeout_seconds`, at most half the
    lease). A full queue towards a slow endpoint (512 deliveries, 64 at a time, 10 s each) outlasts
    a lease: sent later, a delivery could go out twice, leased again by this or another dispatcher."""
    return settings.webhook_claim_seconds - min(settings.webhook_timeout_seconds, settings.webhook_claim_seconds / 2)


class Recorder:
    """Collects finished attempts and records them in batches, in order of arrival."""

    def __init__(self, services: Services) -> None:
        self._services, self._results, self._ready = services, list[Result](), asyncio.Event()

    def add(self, result: Result) -> None:
        self._results.append(result)
        self._ready.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not (stop.is_set() and not self._results):
            await _wait_any(self._ready, stop)
            self._ready.clear()
            await self.flush()

    async def flush(self) -> None:
        batch, self._results = self._results, []
        if not batch:
            return
        try:
            await record_batch(self._services, batch)
        except Exception:  # e.g. a webhook deleted mid-send: record the others one by one
            for result in batch:
                try:
                    await record_batch(self._services, [result])
                except Exception:  # its claim expires and it is retried with the same id
                    _log.exception("recording a webhook attempt failed", delivery=result[0].delivery.id)


async def _send(sender: WebhookSender, claimed: Claimed, recorder: Recorder, freshness: Freshness) -> None:
    if time.monotonic() > claimed.send_by:  # waited too long in the queue: sent once its lease ends
        return
    try:
        if freshness.stale(claimed):  # its webhook changed since the lease: sent as it is now, if at all
            await freshness.refresh(claimed)
        if sendable(claimed):
            recorder.add((claimed, await attempt(sender, claimed.delivery, claimed.webhook)))  # type: ignore[arg-type]
        else:
            await settle_unsendable(claimed)
    except Exception:
        _log.exception("webhook delivery failed unexpectedly")


async def _sending(sender: WebhookSender, queue: asyncio.Queue[Claimed | None], recorder: Recorder,
                   drained: asyncio.Event, freshness: Freshness) -> None:
    """One of `webhook_concurrency` senders: takes leased deliveries from the queue until None,
    asking for the next lease as soon as its take leaves the queue half empty (not after its send:
    measured, that left the queue empty during every lease's round trip)."""
    while (claimed := await queue.get()) is not None:
        if queue.qsize() <= queue.maxsize // 2:
            drained.set()
        await _send(sender, claimed, recorder, freshness)


@register("webhook-dispatcher")
async def webhook_dispatcher(services: Services, stop: asyncio.Event) -> None:
    """Leases are taken ahead (up to QUEUED_BATCHES batches of `webhook_concurrency` waiting in a
    queue, a lease of up to LEASE_BATCHES whenever it is half empty), so senders never idle while a
    lease is in flight. A lease's time is mostly its wait for a loop busy with sends, not its rows:
    traced in figure 6's burst, leases of 128 took 15-45 ms (9 ms with the senders idle) and the
    queue was empty when nearly every one came back, so the dispatcher could not lease more than
    about 5,000 deliveries/s; leases of 256 took about as long, and the queue seldom ran dry.

    A full lease is followed by the next one at once while a batch still fits: traced in figure 6's
    burst, waiting for the senders' signal first cost 8-15 ms a lease (the wake-up's hops through a
    loop busy with sends), and the queue was empty when 23 of 25 leases came back."""
    sender, recorder = build_sender(services), Recorder(services)
    size = services.settings.webhook_concurrency
    queue: asyncio.Queue[Claimed | None] = asyncio.Queue(maxsize=QUEUED_BATCHES * size)
    wake, drained = asyncio.Event(), asyncio.Event()
    sub = await services.bus.subscribe(fanout.WAKE_CHANNEL, lambda _c, _m: wake.set())
    freshness = Freshness()
    changes = await services.bus.subscribe(CHANGED_CHANNEL, lambda _c, m: freshness.changed(m.decode()))
    finished = asyncio.Event()  # not `stop`: after a crash the recorder must end too, or the job never returns
    recording = asyncio.create_task(recorder.run(finished))
    senders = [asyncio.create_task(_sending(sender, queue, recorder, drained, freshness)) for _ in range(size)]
    try:
        while not stop.is_set():
            wake.clear()
            drained.clear()
            free = min(queue.maxsize - queue.qsize(), LEASE_BATCHES * size)
            tick, send_by = freshness.tick(), time.monotonic() + sending_time(services.settings)
            batch = await claim_due(services, free) if free else []
            for claimed in batch:
                claimed.seen, claimed.send_by = tick, send_by
                queue.put_nowait(claimed)
            if free and len(batch) == free and queue.maxsize - queue.qsize() >= size:
                continue  # more are due and a batch still fits: lease again now, not after a wake-up
            await _wait_any(drained if len(batch) == free else wake, stop)
    finally:
        await sub.close()
        await changes.close()
        for _ in senders:
            await queue.put(None)
        _, late = await asyncio.wait(senders, timeout=services.settings.webhook_timeout_seconds)
        for straggler in late:  # not left running on a closed session (or beside a restarted job)
            straggler.cancel()
        finished.set()
        await recording
        await recorder.flush()
        await sender.close()


async def _wait_any(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED), POLL_SECONDS)
    finally:
        for waiter in waiters:
            waiter.cancel()
