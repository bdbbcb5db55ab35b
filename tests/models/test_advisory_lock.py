"""The relay's session advisory lock when PostgreSQL drops its connection while it is held."""

from __future__ import annotations

import asyncio

import asyncpg

from models.db import pg_advisory_session_lock
from tests.conftest import DATABASE_URL, Tenant

KEY = 7_301_455_001  # no job of the app takes this lock


async def _holder(conn: asyncpg.Connection) -> int | None:
    return await conn.fetchval("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                               "AND ((classid::bigint << 32) | objid::bigint) = $1", KEY)


async def test_a_lock_whose_connection_was_lost_ends_its_block_quietly_and_is_free(tenant: Tenant) -> None:
    """The session ended with its connection, and the lock with it: the unlock that cannot be sent is
    no error of the block (it raised, hid the block's own exception and logged the relay as crashed)."""
    watcher = await asyncpg.connect(DATABASE_URL)
    try:
        async with pg_advisory_session_lock(KEY):
            holder = await _holder(watcher)
            assert holder is not None
            assert await watcher.fetchval("SELECT pg_terminate_backend($1)", holder)
            for _ in range(50):  # the backend is gone once PostgreSQL has reaped it
                if await _holder(watcher) is None:
                    break
                await asyncio.sleep(0.02)
        assert await watcher.fetchval("SELECT pg_try_advisory_lock($1)", KEY)
        await watcher.execute("SELECT pg_advisory_unlock($1)", KEY)
    finally:
        await watcher.close()
