"""The bench database: recreated empty at the start of each Gatehouse run, the relay's backlog, and
figure 7's executions.

A fresh `gatehouse_bench` per run keeps runs comparable (tables and indexes start empty instead of
growing by tens of thousands of actions each run) and makes `make bench` work from a clean checkout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def _admin_url(database_url: str) -> tuple[str, str]:
    """The same server's `postgres` database, and the bench database's name."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected bench database name {name!r}")
    return urlunsplit(parts._replace(path="/postgres")), name


async def _recreate(database_url: str) -> None:
    admin_url, name = _admin_url(database_url)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def recreate(database_url: str) -> None:
    """Drop and create the bench database (only the one the harness owns)."""
    asyncio.run(_recreate(database_url))


# What a worker still has to do for earlier figures: events to relay and audit entries to seal
# (the audit sealer chains every proposal's entry; a worker that was stopped during figures 1-2 starts
# with tens of thousands of them).
_LEFT_OVER = """
SELECT (SELECT count(*) FROM events_unrelayed)
     + (SELECT count(*) FROM audit_entries WHERE position IS NULL)
"""


async def _fetchrow(database_url: str, sql: str, *args: Any) -> asyncpg.Record:
    """One row of one statement, on a connection of its own (the harness reads between figures)."""
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchrow(sql, *args)
    finally:
        await conn.close()


_FIRST_WRITTEN = """
SELECT min(created_at) FROM webhook_deliveries WHERE organization_id = $1 AND created_at >= $2
"""


def first_delivery_written(database_url: str, organization_id: str, since: datetime) -> datetime | None:
    """When the relay wrote the organization's first webhook delivery at or after `since` (the
    delivery row's `created_at`, stamped by the fan-out just before its insert)."""
    found: datetime | None = asyncio.run(_fetchrow(database_url, _FIRST_WRITTEN, organization_id, since))[0]
    return found


async def _left_over(database_url: str) -> int:
    return int((await _fetchrow(database_url, _LEFT_OVER))[0])


def left_over(database_url: str) -> int:
    """How many committed events the relay has not published yet, plus the audit entries the sealer
    has not chained yet."""
    return asyncio.run(_left_over(database_url))


def wait_drained(database_url: str, limit_s: float) -> int:
    """Wait until the relay has published every committed event and the sealer has chained every
    audit entry (or `limit_s` passed); the backlog left."""
    deadline = time.monotonic() + limit_s
    left = asyncio.run(_left_over(database_url))
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = asyncio.run(_left_over(database_url))
    return left


_PROGRESS = """
SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status IN ('failed', 'cancelled')) AS failed,
       count(started_at) AS started,
       min(started_at) AS first_started,
       max(finished_at) AS last_finished,
       min(error) AS first_error
FROM executions WHERE id = ANY($1::text[])
"""


async def _progress(database_url: str, ids: list[str]) -> dict[str, Any]:
    return dict(await _fetchrow(database_url, _PROGRESS, ids))


def wait_executions(
    database_url: str, ids: list[str], until: Callable[[dict[str, Any]], bool], limit_s: float, interval: float
) -> dict[str, Any]:
    """Poll the executions `ids` until `until(progress)` holds (or `limit_s` passed): how many
    started, completed and failed, the first start and the last finish (the worker's timestamps)."""
    deadline = time.monotonic() + limit_s
    progress = asyncio.run(_progress(database_url, ids))
    while not until(progress) and time.monotonic() < deadline:
        time.sleep(interval)
        progress = asyncio.run(_progress(database_url, ids))
    return progress


WAL_POSITION = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"


def wal_bytes(database_url: str) -> int:
    """PostgreSQL's write-ahead log position in bytes (`WAL_POSITION`): two readings give what happened
    between them wrote (rows, index entries, locks), the part of a figure's cost that lands on the disk."""
    return int(asyncio.run(_fetchrow(database_url, WAL_POSITION))[0])
