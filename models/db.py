"""Database lifecycle: Tortoise configuration, connect, migrate, close."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from app.core.after_commit import in_atomic
from app.core.settings import Settings
from models import MODEL_MODULES

_users = 0  # apps of this process using the Tortoise connections

ASYNC_COMMIT = "(SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL"
"""A condition that holds and makes the transaction it runs in commit without waiting for its WAL
flush (`SET LOCAL synchronous_commit = off` inside a statement; PostgreSQL evaluates it once, before
any row). For writes that a crash of PostgreSQL may lose because losing one is already handled
(an expired lease taken again), never for what a client was told is stored."""


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without asyncpg's reset statement.

    asyncpg sends `SELECT pg_advisory_unlock_all() CLOSE ALL UNLISTEN * RESET ALL` on every release:
    one more round trip for every transaction and every query outside one (about a sixth of a
    proposal's statements). Gatehouse sets no session state (cursors outside a transaction, LISTEN
    or SET; its one session advisory lock, `pg_advisory_session_lock`, gives itself back), and
    asyncpg still rolls back an open transaction on release, so there is nothing to reset. Anything
    that starts using session state must reset it itself.
    """

    def get_reset_query(self) -> str:
        return ""


def _connection(settings: Settings) -> str | dict[str, Any]:
    url = settings.tortoise_db_url
    if settings.is_sqlite:
        return url
    sep = "&" if "?" in url else "?"
    config = expand_db_url(f"{url}{sep}maxsize={settings.db_pool_size}&minsize=1")
    config["credentials"]["connection_class"] = PooledConnection
    return config


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The one Tortoise configuration, for the server, the workers, the CLI and the tests."""
    return {
        "connections": {"default": _connection(settings)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(settings: Settings) -> None:
    """Connect Tortoise for every task of the process (requests run outside the lifespan task).

    Tortoise's state is process-wide: a second app in the same process (tests run replicas so)
    shares the first one's connections, and only the last `release_database` closes them.
    """
    global _users
    if _users == 0:
        await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    _users += 1


async def release_database() -> None:
    """Give back what `open_database` took; the last user closes the connections."""
    global _users
    _users = max(0, _users - 1)
    if _users == 0:
        await close_database()


async def migrate(settings: Settings) -> None:
    """Apply every versioned migration not yet applied (PostgreSQL and SQLite alike)."""
    await run_migrations(config=tortoise_config(settings))


async def close_database() -> None:
    await connections.close_all()


async def database_ready() -> bool:
    """True when a trivial query succeeds; used by /readyz."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


def is_postgres(conn: BaseDBAsyncClient | None = None) -> bool:
    """Whether `conn` (or the default connection) is PostgreSQL, where the one-statement paths run."""
    return (conn or connections.get("default")).capabilities.dialect == "postgres"


async def pg_fetch(sql: str, *args: Any, conn: BaseDBAsyncClient | None = None) -> list[asyncpg.Record]:
    """PostgreSQL only: the rows of one statement as asyncpg Records (read by column name), on
    `conn` (a transaction's connection) or a pooled one. For hot paths written as one statement:
    Tortoise's `execute_query_dict` copies every row into a dict and its `execute_query` upper-cases
    a copy of the statement; measured, about 8 us per row of a relay batch."""
    async with (conn or connections.get("default")).acquire_connection() as raw:
        rows: list[asyncpg.Record] = await raw.fetch(sql, *args)
        return rows


async def pg_execute(sql: str, *args: Any, conn: BaseDBAsyncClient | None = None) -> None:
    """PostgreSQL only: run one statement that returns no rows, as `pg_fetch` does."""
    async with (conn or connections.get("default")).acquire_connection() as raw:
        await raw.execute(sql, *args)


@asynccontextmanager
async def pg_advisory_session_lock(key: int) -> AsyncIterator[None]:
    """PostgreSQL only: hold advisory lock `key` across transactions (a commit does not end it), on
    a pooled connection of its own. Pooled connections are not reset on release (PooledConnection),
    so one whose unlock fails is closed, which is what gives the lock back. An unlock that fails
    because the connection was lost (its session, and so its lock, ended with it) is not an error of
    the block: raising it hid what the block itself raised, and logged an outage as a crash."""
    async with connections.get("default").acquire_connection() as raw:
        await raw.execute("SELECT pg_advisory_lock($1)", key)
        try:
            yield
        finally:
            try:
                await raw.execute("SELECT pg_advisory_unlock($1)", key)
            except Exception:
                with contextlib.suppress(Exception):  # a connection already gone may refuse this too
                    raw.terminate()
            except BaseException:
                raw.terminate()
                raise


async def pg_listen(settings: Settings, channel: str, heard: Callable[[str], None]) -> asyncpg.Connection:
    """PostgreSQL only: a connection of its own (LISTEN is session state: never a pooled one) that
    hands every NOTIFY on `channel` to `heard` (its payload), on the event loop. The caller closes
    it; `add_termination_listener` tells when it was lost."""
    credentials = expand_db_url(settings.tortoise_db_url)["credentials"]
    conn: asyncpg.Connection = await asyncpg.connect(
        host=credentials["host"], port=credentials["port"], user=credentials.get("user"),
        password=credentials.get("password"), database=credentials["database"])
    await conn.add_listener(channel, lambda _conn, _pid, _channel, payload: heard(payload))
    return conn


class OwnConnection:
    """PostgreSQL only: a connection of one's own (say, the one a NOTIFY just woke: its server
    process is awake, where a pooled one may have idled) used for one statement at a time while it
    is free, else a pooled one; it stands in for the Tortoise client (`acquire_connection`)."""

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw, self.busy = raw, False

    @asynccontextmanager
    async def acquire_connection(self) -> AsyncIterator[asyncpg.Connection]:
        if self.busy or self.raw.is_closed():
            async with connections.get("default").acquire_connection() as pooled:
                yield pooled
            return
        self.busy = True
        try:
            yield self.raw
        finally:
            self.busy = False


def connection_for_one_statement() -> BaseDBAsyncClient | None:
    """The PostgreSQL connection when a hot path may write as one statement (its own transaction),
    else None: SQLite, or inside a caller's `atomic()` block, takes the ORM path."""
    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres" or in_atomic():
        return None
    return conn
