"""The bench database: recreated empty at the start of each Gatehouse run, and the relay's backlog.

A fresh `gatehouse_bench` per run keeps runs comparable (tables and indexes start empty instead of
growing by tens of thousands of actions each run) and makes `make bench` work from a clean checkout.
"""

from __future__ import annotations

import asyncio
import time
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


async def _unrelayed(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM events_unrelayed"))
    finally:
        await conn.close()


def wait_relayed(database_url: str, limit_s: float) -> int:
    """Wait until the relay has published every committed event (or `limit_s` passed); the backlog left."""
    deadline = time.monotonic() + limit_s
    left = asyncio.run(_unrelayed(database_url))
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = asyncio.run(_unrelayed(database_url))
    return left
