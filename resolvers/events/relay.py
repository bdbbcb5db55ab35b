"""The relay: committed outbox events -> sinks (webhook deliveries) -> the bus (subscribers).

Any number of workers may run it, one at a time: a relay turn (a PostgreSQL advisory lock held
across processes, an asyncio lock in the embedded mode) covers, for each batch it relays (one, or
more while a backlog lasts), taking the batch off the relay queue (events_unrelayed), handing it
to every registered sink inside one transaction, numbering its events in the relay's log
(events_relayed), committing, and publishing the batch's envelopes as one JSON array on
EVENTS_CHANNEL, where every server process routes them to its subscribers. Holding
the turn until the publish is answered is what makes positions reach every subscriber in order,
whatever the number of workers and replicas: Redis delivers messages in the order it took them,
and an event's position is given when it is relayed, not when its transaction took a seq (a
transaction that commits late gets a later position, not a seq below ones already seen).
One message per batch, not per event: measured, publishing each envelope was 12% of the worker's
CPU during a webhook burst (5.7% even pipelined).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.waiting import first_of
from models.db import pg_advisory_session_lock, pg_fetch
from models.events import Event, RelayedEvent, UnrelayedEvent
from resolvers.context import Services
from resolvers.events.outbox import EVENTS_CHANNEL, OUTBOX_WAKE_CHANNEL, Committed, envelope

Sink = Callable[[Services, list[Committed]], Awaitable[None]]
SINKS: list[Sink] = []
BATCH_SIZE = 500  # a turn after an idle moment: its events wait for all of its batch to commit
MAX_BATCH_SIZE = 1000  # batches while a backlog lasts (see `next_batch_size`)
POLL_SECONDS = 1.0

RELAY_LOCK = 0x6761_7465_7265_6C79  # the PostgreSQL advisory lock key of the relay turn
# Per bus (the embedded mode has one process): the relay turn.
_local_turns: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()

# PostgreSQL: take the oldest queued seqs (models.events.UnrelayedEvent) off the queue, number their
# events after the log's last position, log them, and return them, in one statement of the relay's
# transaction (a sink that fails puts them back). Only the holder of the relay turn runs it, so
# max(position) is stable for the statement. An entry whose event was deleted comes back with no id.
# The batch's seqs are deleted as an array (`= ANY(ARRAY(...))`, primary-key lookups): written as
# `IN (subquery)`, the planner joined them to a sequential scan of the queue, every live entry and
# every dead one left since the last vacuum, on each turn.
_CLAIM_PG = """
WITH batch AS (
    DELETE FROM events_unrelayed WHERE seq = ANY(ARRAY(
        SELECT seq FROM events_unrelayed ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
    ))
    RETURNING seq
), claimed AS (
    SELECT e.seq, e.id, e.organization_id, e.type, e.data, e.created_at,
           (SELECT COALESCE(max(position), 0) FROM events_relayed) + row_number() OVER (ORDER BY e.seq) AS position
    FROM batch JOIN events e ON e.seq = batch.seq
), logged AS (
    INSERT INTO events_relayed (position, organization_id, seq, relayed_at)
    SELECT position, organization_id, seq, $2 FROM claimed
)
SELECT batch.seq, c.position, c.id, c.organization_id, c.type, c.data::text AS data, c.created_at
FROM batch LEFT JOIN claimed c ON c.seq = batch.seq
"""


def add_sink(sink: Sink) -> Sink:
    """Register a consumer that runs inside the relay's transaction (e.g. delivery rows)."""
    SINKS.append(sink)
    return sink


async def relay_while_full(services: Services) -> None:
    """Relay batches in one turn, held across them while each comes back full (a backlog: giving
    the turn back and taking it again between them was two round trips a batch, each waiting in a
    loop busy with sends); an entry whose event was deleted with its organization is dropped, and
    still counts towards a full batch."""
    limit = BATCH_SIZE
    async with _local_turn(services.bus) if services.settings.is_sqlite else pg_advisory_session_lock(RELAY_LOCK):
        while await relay_batch(services, limit) >= limit:
            limit = next_batch_size(limit)


async def relay_batch(services: Services, limit: int) -> int:
    """One batch, by the holder of the relay turn: claimed, handed to the sinks, committed, and
    published before the turn passes on, so positions stay in order."""
    async with atomic() as conn:
        events, taken = await (_claim_orm(conn, limit) if services.settings.is_sqlite else claim_pg(conn, limit))
        for sink in SINKS if events else ():
            await sink(services, events)
    if events:
        await services.bus.publish(EVENTS_CHANNEL, orjson.dumps([envelope(e) for e in events]))
    return taken


def _local_turn(bus: Any) -> asyncio.Lock:
    turn = _local_turns.get(bus)
    if turn is None:
        turn = _local_turns[bus] = asyncio.Lock()
    return turn


async def claim_pg(conn: BaseDBAsyncClient, limit: int = BATCH_SIZE) -> tuple[list[Committed], int]:
    """The batch's events in position order, and how many queue entries were taken."""
    rows = await pg_fetch(_CLAIM_PG, limit, utcnow(), conn=conn)
    events = [Committed(r["seq"], r["id"], r["organization_id"], r["type"], orjson.loads(r["data"]), r["created_at"],
                        position=r["position"]) for r in rows if r["id"] is not None]
    events.sort(key=lambda e: e.position)  # RETURNING promises no order
    return events, len(rows)


async def _claim_orm(conn: BaseDBAsyncClient, limit: int) -> tuple[list[Committed], int]:
    """SQLite (one process, no row locks): read the oldest queued seqs, dequeue them, read their
    events, and log them after the last position."""
    queued = UnrelayedEvent.all().order_by("seq").limit(limit).using_db(conn)
    seqs = list(await queued.values_list("seq", flat=True))
    if not seqs:
        return [], 0
    await UnrelayedEvent.filter(seq__in=seqs).using_db(conn).delete()
    last = await RelayedEvent.all().using_db(conn).order_by("-position").first()
    rows = await Event.filter(seq__in=seqs).order_by("seq").using_db(conn)
    events = [Committed.of(e, position=(last.position if last else 0) + n) for n, e in enumerate(rows, 1)]
    now = utcnow()
    await RelayedEvent.bulk_create(
        [RelayedEvent(position=e.position, organization_id=e.organization_id, seq=e.seq, relayed_at=now)
         for e in events], using_db=conn)
    return events, len(seqs)


def next_batch_size(limit: int) -> int:
    """The batch after a full one (a backlog): twice as large, up to MAX_BATCH_SIZE; each turn
    starts again at BATCH_SIZE (`relay_while_full`). A batch's cost is mostly fixed (its
    transaction, every sink's lookups, the publish: round trips, each waiting its place in a loop
    that is busy sending). Measured in figure 6's burst (3,000 deliveries, five runs of 3 rounds
    each, interleaved), the runs' medians: batches growing to 1,000, 6,606-8,350 deliveries/s (and
    one run at 4,322, its worker using 170-210 us a delivery, as slow a host as any); batches of
    500, 5,201-6,745/s; growing to 2,000, 6,781 and 6,790/s, no better (a longer batch's deliveries
    wait longer for its commit). A turn's first batch stays at 500, so as much of a burst is
    relayed inside the figure's window as before."""
    return min(2 * limit, MAX_BATCH_SIZE)


async def run_relay(services: Services, stop: asyncio.Event) -> None:
    """Relay until stopped: woken through the bus, and polling in case a wake was lost."""
    wake = asyncio.Event()
    sub = await services.bus.subscribe(OUTBOX_WAKE_CHANNEL, lambda _c, _m: wake.set())
    try:
        while not stop.is_set():
            wake.clear()
            await relay_while_full(services)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(first_of(wake, stop), POLL_SECONDS)
    finally:
        await sub.close()
