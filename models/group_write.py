"""Group commit for one hot statement: rows written while another write of it is in flight go
together, as one pipelined `executemany` (one round trip, one transaction, one commit).

On PostgreSQL a transaction's own cost (its commit: the WAL flush, the snapshot, the executor's
start) is most of what a small insert costs: measured here, one row per transaction cost the server
about 200 us of CPU against about 80 us a row four to a transaction. A proposal is one statement of
its own (resolvers/governance/store_pg.py), so under load most of the database's work per proposal
was commits. The writer keeps at most `MAX_IN_FLIGHT` writes of its statement running; a row that
arrives while they all run waits for the next, which takes every row waiting then. An idle server
writes each row at once, as before (no timer, no added latency); a loaded one writes several per
commit.

One write in flight, not two: while it runs on its PostgreSQL backend, the process prepares the
rows of the next, so the two overlap as two stages. With two in flight the batches were smaller
(more commits) and two backends competed with the server for the cores: on this 2-core machine,
figure 1 interleaved over 8 rounds gave a median of 1,994 req/s against 1,573 (7 pairs faster, one even),
CPU a proposal 439 us in the server against 483 and 281 us in PostgreSQL against 315, and left the
machine idle 24-27% of the time against 29-35% (bench/README.md, "Morning of 2026-12-05").
`gatehouse serve` is one process; more cores are used by more replicas (DESIGN.md), each with a
writer (and a backend) of its own.

Every row still succeeds or fails on its own: asyncpg's `executemany` is atomic, so when PostgreSQL
refuses a batch (a reused idempotency key's unique violation, say) nothing of it was written, and
each row of it is written again alone, so only the row at fault gets the error. A row's caller
gets its answer only once its transaction committed: a row is never acknowledged before it is
durable. Writes run in tasks of their own, so a caller that is cancelled never cancels the write of
rows of other callers sharing its batch; a caller cancelled while its row still waits takes it out.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Any

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient

MAX_IN_FLIGHT = 1  # writes of one statement running at once: the rest wait and go together
MAX_ROWS = 64  # rows of one write: bounds a batch's transaction (and what a refused batch retries)

Row = Sequence[Any]
_Pending = tuple[Row, "asyncio.Future[None]"]


class GroupWriter:
    """Writes rows of one statement on one PostgreSQL client, several to a transaction under load."""

    def __init__(self, client: BaseDBAsyncClient, sql: str) -> None:
        self._client, self._sql = client, sql
        self._waiting: list[_Pending] = []
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def write(self, row: Row) -> None:
        """Return once `row` is committed; raise what PostgreSQL said of this row alone."""
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (row, written)
        self._waiting.append(entry)
        if self._in_flight < MAX_IN_FLIGHT:
            self._in_flight += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.shield(written)
        except asyncio.CancelledError:
            if entry in self._waiting:  # not taken yet: it will not be written
                self._waiting.remove(entry)
            else:  # in a batch being written: its outcome is nobody's to read now
                written.add_done_callback(_consume)
            raise

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_ROWS], self._waiting[MAX_ROWS:]
                await self._write_batch(batch)
        except asyncio.CancelledError:  # shutting down: what still waits will not be written
            stranded, self._waiting = self._waiting, []
            for _, written in stranded:
                _settle(written, ConnectionError("the database writer stopped"))
            raise
        finally:
            self._in_flight -= 1

    async def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            async with self._client.acquire_connection() as raw:
                if len(batch) == 1:
                    await raw.execute(self._sql, *batch[0][0])
                else:
                    await raw.executemany(self._sql, [row for row, _ in batch])
        except asyncpg.PostgresError as exc:  # refused by the server: nothing of the batch was written
            if len(batch) == 1:
                _settle(batch[0][1], exc)
            else:
                for entry in batch:
                    await self._write_batch([entry])
            return
        except asyncio.CancelledError:  # the rows' fate is unknown, as a cancelled execute's is
            for _, written in batch:
                _settle(written, ConnectionError("the write was cancelled"))
            raise
        except Exception as exc:  # the connection failed: the rows' fate is unknown
            for _, written in batch:
                _settle(written, exc)
            return
        for _, written in batch:
            _settle(written, None)


def _consume(written: asyncio.Future[None]) -> None:
    if not written.cancelled():
        written.exception()


def _settle(written: asyncio.Future[None], exc: BaseException | None) -> None:
    if written.done():
        return
    if exc is None:
        written.set_result(None)
    else:
        written.set_exception(exc)


_writers: weakref.WeakKeyDictionary[BaseDBAsyncClient, dict[str, GroupWriter]] = weakref.WeakKeyDictionary()


def group_writer(client: BaseDBAsyncClient, sql: str) -> GroupWriter:
    """The writer of `sql` on `client` (one per client and statement, made on first use)."""
    by_sql = _writers.setdefault(client, {})
    writer = by_sql.get(sql)
    if writer is None:
        writer = by_sql[sql] = GroupWriter(client, sql)
    return writer
