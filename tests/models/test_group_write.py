"""Group commit on a real PostgreSQL: rows written together share a transaction, yet each row
succeeds or fails alone, and a row whose caller gave up before its turn is not written."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tortoise import connections

from models.group_write import MAX_IN_FLIGHT, GroupWriter
from tests.conftest import DATABASE_URL

TABLE = "group_write_probe"
INSERT = f"INSERT INTO {TABLE} (id, note) VALUES ($1, $2)"


@pytest.fixture
async def writer(server: str) -> GroupWriter:
    client = connections.get("default")
    await client.execute_script(f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (id int PRIMARY KEY, note text)")
    return GroupWriter(client, INSERT)


async def _rows() -> list[dict]:
    return await connections.get("default").execute_query_dict(
        f"SELECT id, note, xmin::text AS tx FROM {TABLE} ORDER BY id")


async def test_concurrent_rows_share_transactions_and_all_commit(writer: GroupWriter) -> None:
    await asyncio.gather(*(writer.write((i, f"row {i}")) for i in range(40)))
    rows = await _rows()
    assert [r["id"] for r in rows] == list(range(40))
    transactions = {r["tx"] for r in rows}
    assert len(transactions) < 40  # rows that waited went together


async def test_a_refused_row_fails_alone(writer: GroupWriter) -> None:
    await writer.write((7, "first"))
    results = await asyncio.gather(*(writer.write((i, f"row {i}")) for i in range(20)), return_exceptions=True)
    failed = [i for i, result in enumerate(results) if isinstance(result, BaseException)]
    assert failed == [7]
    assert isinstance(results[7], asyncpg.UniqueViolationError)
    rows = await _rows()
    assert [r["id"] for r in rows] == list(range(20))
    assert next(r["note"] for r in rows if r["id"] == 7) == "first"


async def _until_blocked(count: int) -> None:
    """Until `count` inserts into the probe table wait on a lock."""
    for _ in range(200):
        rows = await connections.get("default").execute_query_dict(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
            [f"INSERT INTO {TABLE}%"])
        if rows[0]["n"] >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} inserts never waited on the lock")


async def test_a_row_cancelled_while_waiting_is_not_written(writer: GroupWriter) -> None:
    blocker = await asyncpg.connect(DATABASE_URL)
    try:
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")  # every insert waits
        running = []
        for i in range(MAX_IN_FLIGHT):  # one at a time, so each takes a write slot of its own
            running.append(asyncio.create_task(writer.write((i, "early"))))
            await _until_blocked(i + 1)
        late = asyncio.create_task(writer.write((100, "late")))  # every slot is busy: it waits
        await asyncio.sleep(0.05)
        late.cancel()
        await holding.rollback()
    finally:
        await blocker.close()
    await asyncio.gather(*running)
    with pytest.raises(asyncio.CancelledError):
        await late
    await writer.write((101, "after"))
    assert [r["id"] for r in await _rows()] == [*range(MAX_IN_FLIGHT), 101]
