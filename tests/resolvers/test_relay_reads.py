"""A relay turn reads the queue entries it takes, not the whole queue (PostgreSQL): taking them as
`IN (subquery)` joined them to a sequential scan of events_unrelayed, all live entries and every
dead one since the last vacuum, on every turn."""

from __future__ import annotations

import pytest

from models.db import pg_fetch
from resolvers.events.relay import BATCH_SIZE, MAX_BATCH_SIZE, claim_pg, next_batch_size
from tests.conftest import Tenant
from tests.reads import rolled_back, rows_read

_QUEUE = """
WITH e AS (
    INSERT INTO events (id, organization_id, type, data, created_at)
    SELECT 'evt_queued_' || g, $1, 'test.queued', '{}'::jsonb, now() FROM generate_series(1, $2) g
    RETURNING seq
)
INSERT INTO events_unrelayed (seq) SELECT seq FROM e
"""


@pytest.mark.parametrize("limit", [BATCH_SIZE, MAX_BATCH_SIZE])
async def test_a_relay_turn_reads_no_queue_entry_sequentially(tenant: Tenant, limit: int) -> None:
    async with rolled_back() as conn:  # uncommitted: the test server's relay never sees these entries
        await pg_fetch(_QUEUE, tenant.organization_id, 2 * MAX_BATCH_SIZE, conn=conn)
        before, _ = await rows_read(conn, "events_unrelayed")
        events, taken = await claim_pg(conn, limit)
        read = (await rows_read(conn, "events_unrelayed"))[0] - before
        assert taken == limit and len(events) == limit
        assert [e.type for e in events] == ["test.queued"] * limit
        assert read == 0, f"the turn read {read} queue entries by a sequential scan to take {taken}"


def test_batches_grow_while_a_backlog_lasts_up_to_the_largest() -> None:
    sizes = [BATCH_SIZE]
    for _ in range(3):
        sizes.append(next_batch_size(sizes[-1]))
    assert sizes == [BATCH_SIZE, 2 * BATCH_SIZE, MAX_BATCH_SIZE, MAX_BATCH_SIZE]
