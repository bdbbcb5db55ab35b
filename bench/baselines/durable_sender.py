"""Figure 6's durable floor: the least a sender must do to deliver a burst of committed events and
not lose one, in one process, with the stack's bare parts (asyncpg, aiohttp, orjson, uvloop).

Run (with the receiver up): `python -m bench.baselines.durable_sender --url http://127.0.0.1:8199/hook -n 3000`.

The bare senders (`senders.py`) send payloads they hold in memory; Gatehouse's worker must first
turn each committed event into a stored delivery, lease it, send it and record the answer, so that a
crash loses nothing. This floor does exactly those four steps and nothing else: no organizations,
no webhook lookups, no event log, no attempts log, no audit trail.

- A queue of N committed events (`floor_queue` -> `floor_events`) is filled before the clock starts.
  Their bodies have the bare senders' shape (about 300 bytes; Gatehouse's in figure 6 are 874).
- A relay turn takes up to 500 queued events (1,000 while a backlog lasts, as Gatehouse's relay
  does), builds each delivery's body, inserts the deliveries and commits.
- A dispatcher leases pending deliveries (128 at a time, `FOR UPDATE SKIP LOCKED`) into a queue that
  64 senders take from, each signing its body as DESIGN.md says (the same signatures as the bare
  senders).
- A recorder marks the answered deliveries sent, one statement per batch.

As in figure 6, the rate is taken from the first delivery answered to the last, so the first relay
turn is outside the window; `per_s_from_start` counts from the first claim.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import time
from datetime import UTC
from typing import Any

import aiohttp
import asyncpg
import orjson

from bench.baselines.senders import signed_headers
from bench.database import WAL_POSITION
from bench.sysstat import cpu_by_command, cpu_seconds, cpu_spent_since

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatehouse_bench")
RELAY_BATCH, RELAY_MAX_BATCH, LEASE_BATCH, CONCURRENCY = 500, 1000, 128, 64

SCHEMA = """
DROP TABLE IF EXISTS floor_queue, floor_events, floor_deliveries;
CREATE TABLE floor_events (
    seq bigserial PRIMARY KEY, id text NOT NULL, type text NOT NULL, data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE floor_queue (seq bigint PRIMARY KEY);
CREATE TABLE floor_deliveries (
    id text PRIMARY KEY, event_id text NOT NULL, event_type text NOT NULL, payload text NOT NULL,
    status text NOT NULL, attempts int NOT NULL DEFAULT 0, next_attempt_at timestamptz,
    claimed_until timestamptz, delivered_at timestamptz
);
CREATE INDEX floor_deliveries_due ON floor_deliveries (next_attempt_at) WHERE status = 'pending';
"""
FILL = """
WITH made AS (
    INSERT INTO floor_events (id, type, data)
    SELECT 'evt_' || md5(random()::text), 'action.approved', jsonb_build_object(
        'actionId', 'act_' || md5(random()::text), 'type', 'send_email', 'status', 'approved',
        'actor', jsonb_build_object('kind', 'agent', 'name', 'marketing-bot', 'provider', 'openai'),
        'target', 'user@example.com', 'params', jsonb_build_object('subject', 'Welcome!', 'recipient_count', n))
    FROM generate_series(1, $1) AS n
    RETURNING seq
)
INSERT INTO floor_queue (seq) SELECT seq FROM made
"""
CLAIM = """
WITH batch AS (
    DELETE FROM floor_queue WHERE seq = ANY(ARRAY(
        SELECT seq FROM floor_queue ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
    ))
    RETURNING seq
)
SELECT e.id, e.type, e.data::text AS data, e.created_at FROM batch JOIN floor_events e ON e.seq = batch.seq
ORDER BY e.seq
"""
INSERT = """
INSERT INTO floor_deliveries (id, event_id, event_type, payload, status, next_attempt_at)
SELECT r.id, r.event_id, r.event_type, r.payload, 'pending', now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(id, event_id, event_type, payload)
"""
LEASE = """
UPDATE floor_deliveries SET status = 'leased', claimed_until = now() + interval '1 minute'
WHERE id = ANY(ARRAY(
    SELECT id FROM floor_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
))
RETURNING id, event_type, payload
"""
RECORD = """
UPDATE floor_deliveries d SET status = 'succeeded', attempts = d.attempts + 1, delivered_at = now(),
    claimed_until = NULL
FROM unnest($1::text[]) AS r(id) WHERE d.id = r.id
"""
Leased = tuple[str, str, str]  # id, event type, body


def body_of(row: asyncpg.Record) -> str:
    """The delivery's body, `{id, event, timestamp, data}`, from the stored event."""
    stamp = row["created_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return orjson.dumps({"id": row["id"], "event": row["type"], "timestamp": stamp,
                         "data": orjson.loads(row["data"])}).decode()


class Floor:
    """The four steps, pipelined in one loop as Gatehouse's worker runs them."""

    def __init__(self, pool: asyncpg.Pool, session: aiohttp.ClientSession, url: str, total: int) -> None:
        self.pool, self.session, self.url, self.total = pool, session, url, total
        self.queue: asyncio.Queue[Leased | None] = asyncio.Queue(4 * LEASE_BATCH)
        self.woken = asyncio.Event()  # set by each relay turn that wrote deliveries
        self.done: list[str] = []
        self.recorded = self.ok = 0
        self.first_answer: float | None = None
        self.last_answer = 0.0
        self.failures: list[str] = []

    async def relay(self) -> None:
        limit = RELAY_BATCH
        while True:
            async with self.pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(CLAIM, limit)
                if rows:
                    columns: list[list[str]] = [[], [], [], []]
                    for row in rows:
                        for column, value in zip(columns, (f"dlv_{secrets.token_hex(12)}", row["id"], row["type"],
                                                           body_of(row)), strict=True):
                            column.append(value)
                    await conn.execute(INSERT, *columns)
            if not rows:
                return
            self.woken.set()
            limit = min(2 * limit, RELAY_MAX_BATCH) if len(rows) >= limit else RELAY_BATCH

    async def dispatch(self) -> None:
        leased = 0
        while leased < self.total:
            if self.queue.maxsize - self.queue.qsize() < LEASE_BATCH:
                await asyncio.sleep(0.001)
                continue
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(LEASE, LEASE_BATCH)
            for row in rows:
                await self.queue.put((row["id"], row["event_type"], row["payload"]))
            leased += len(rows)
            if not rows:
                self.woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.woken.wait(), 0.01)
        for _ in range(CONCURRENCY):
            await self.queue.put(None)

    async def send(self) -> None:
        while (item := await self.queue.get()) is not None:
            delivery_id, event_type, payload = item
            body = payload.encode()
            try:
                async with self.session.post(self.url, data=body,
                                             headers=signed_headers(delivery_id, event_type, body,
                                                                    int(time.time()))) as response:
                    await response.read()
                    good = 200 <= response.status < 300
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                self.failures.append(repr(exc)[:200])
                good = False
            now = time.perf_counter()
            self.first_answer = now if self.first_answer is None else self.first_answer
            self.last_answer, self.ok = now, self.ok + good
            self.done.append(delivery_id)

    async def record(self, sending: asyncio.Future[Any]) -> None:
        while not (sending.done() and not self.done):
            if not self.done:
                await asyncio.sleep(0.002)
                continue
            batch, self.done = self.done, []
            async with self.pool.acquire() as conn:
                await conn.execute(RECORD, batch)
            self.recorded += len(batch)


async def run(url: str, deliveries: int) -> dict[str, Any]:
    pool = await asyncpg.create_pool(DATABASE_URL, min_size=4, max_size=4)
    try:
        async with pool.acquire() as conn:
            await conn.execute(SCHEMA)
            await conn.execute(FILL, deliveries)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as session:
            floor = Floor(pool, session, url, deliveries)
            wal_before = await pool.fetchval(WAL_POSITION)
            machine_before = cpu_by_command()
            cpu_before, started = cpu_seconds(), time.perf_counter()
            sending = asyncio.gather(*(floor.send() for _ in range(CONCURRENCY)))
            await asyncio.wait_for(asyncio.gather(floor.relay(), floor.dispatch(), sending, floor.record(sending)),
                                   120)
            cpu = cpu_seconds() - cpu_before
            by_command = cpu_spent_since(machine_before, cpu_by_command(), floor.ok)
            wal = (await pool.fetchval(WAL_POSITION) - wal_before) // max(1, deliveries)
    finally:
        await pool.close()
    window = floor.last_answer - (floor.first_answer or floor.last_answer)
    return {
        "deliveries": floor.ok,
        "recorded": floor.recorded,
        "per_s": round((floor.ok - 1) / window, 1) if window > 0 else None,
        "per_s_from_start": round(floor.ok / (floor.last_answer - started), 1),
        "cpu_us_per_delivery": round(cpu * 1e6 / max(1, floor.ok), 1),
        "cpu_us_per_delivery_by_command": by_command,  # this process is `python`, with the receiver
        "wal_bytes_per_delivery": int(wal),
        "failures": len(floor.failures),
        "first_failure": floor.failures[0] if floor.failures else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="figure 6's durable floor: relay, lease, send, record")
    parser.add_argument("--url", default="http://127.0.0.1:8199/hook")
    parser.add_argument("-n", "--deliveries", type=int, default=3000)
    args = parser.parse_args()
    import uvloop

    json.dump(uvloop.run(run(args.url, args.deliveries)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
