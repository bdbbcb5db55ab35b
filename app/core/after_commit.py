"""Side effects released only after the outermost transaction commits.

Publishing an event or waking a worker before the row is committed would let a reader see a
notification for data that may still roll back. `atomic()` opens (or joins) a transaction and
collects callbacks registered with `on_commit`; they run once the outermost block commits and are
dropped if it rolls back. Outside any transaction a callback runs at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from tortoise.backends.base.client import TransactionContextPooled
from tortoise.connection import get_connections
from tortoise.transactions import in_transaction

Callback = Callable[[], Awaitable[None]]
_pending: contextvars.ContextVar[list[Callback] | None] = contextvars.ContextVar(
    "gatehouse_after_commit", default=None
)
_log = logging.getLogger("gatehouse.after_commit")


@asynccontextmanager
async def atomic(connection_name: str | None = None) -> AsyncIterator[Any]:
    """A transaction whose `on_commit` callbacks run after the outermost commit."""
    outer = _pending.get() is None
    if not outer:
        async with _transaction(connection_name) as conn:
            yield conn
        return
    callbacks: list[Callback] = []
    token = _pending.set(callbacks)
    try:
        async with _transaction(connection_name) as conn:
            yield conn
    finally:
        _pending.reset(token)
    await _run(callbacks)


@asynccontextmanager
async def _transaction(connection_name: str | None) -> AsyncIterator[Any]:
    """Tortoise's `in_transaction`, without its leak when BEGIN fails (a connection lost under it):
    its pooled context has by then taken a connection and made the transaction the task's current
    one, and nothing gives either back. Every later transaction in that task became a savepoint on
    the dead connection, so a worker job failed on each restart until its process was restarted."""
    opening = in_transaction(connection_name)
    began = False
    try:
        async with opening as conn:
            began = True
            yield conn
    except BaseException:
        if not began and isinstance(opening, TransactionContextPooled):
            await _abandon(opening)
        raise


async def _abandon(opening: TransactionContextPooled) -> None:
    """Undo what a pooled transaction's failed BEGIN left: the task's current connection, and the
    pooled connection (closed: its state is unknown; the pool opens a new one in its place)."""
    token = getattr(opening, "token", None)
    if token is not None:
        get_connections().reset(token)
    raw, pool = getattr(opening.client, "_connection", None), opening.client._parent._pool
    if raw is not None and pool is not None:
        raw.terminate()
        with contextlib.suppress(Exception):
            await pool.release(raw)


def in_atomic() -> bool:
    """Whether an `atomic()` block is open here: work done now commits (or rolls back) with it."""
    return _pending.get() is not None


def on_commit(callback: Callback) -> None:
    """Register work to run after the current outermost transaction commits."""
    pending = _pending.get()
    if pending is None:
        raise RuntimeError("on_commit outside atomic(): use run_now or open a transaction")
    pending.append(callback)


async def _run(callbacks: list[Callback]) -> None:
    for callback in callbacks:
        try:
            await callback()
        except Exception:  # a failed notification must not undo a committed change
            _log.exception("after-commit callback failed")
