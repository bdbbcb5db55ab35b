"""Counting the rows a statement reads, in a transaction that is rolled back (PostgreSQL): the
counters of `pg_stat_xact_user_tables` are this backend's own, so the test server's workers neither
add to them nor see the rows a test writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.core.after_commit import atomic
from models.db import pg_fetch

_READS = """SELECT seq_tup_read AS sequential, seq_tup_read + COALESCE(idx_tup_fetch, 0) AS all_
FROM pg_stat_xact_user_tables WHERE relname = $1"""


class _RollBack(Exception):
    """Raised at the end of `rolled_back` to undo what the test wrote."""


@asynccontextmanager
async def rolled_back() -> AsyncIterator[Any]:
    """A transaction (its connection) that is rolled back once the block ends; an assertion that
    fails inside still propagates."""
    try:
        async with atomic() as conn:
            yield conn
            raise _RollBack
    except _RollBack:
        pass


async def rows_read(conn: Any, table: str) -> tuple[int, int]:
    """Rows of `table` read so far in the transaction: (by sequential scans, by any scan)."""
    row = (await pg_fetch(_READS, table, conn=conn))[0]
    return row["sequential"], row["all_"]
