"""The sealer reads the entries it seals, not the trail (PostgreSQL): its update of a batch, joined
to the batch's seqs without their bounds, hashed the whole table for a batch of 1,000."""

from __future__ import annotations

import asyncio

from models.db import pg_fetch
from resolvers.audit import rows
from resolvers.audit.sealer import seal_pending
from tests.conftest import Tenant
from tests.reads import rolled_back, rows_read

_ENTRIES = """
INSERT INTO audit_entries (id, organization_id, type, actor, changes, created_at, position, hash)
SELECT $1 || g, $2, 'test.entry', 'system:test', '{}'::jsonb, now(),
       CASE WHEN $3 THEN g END, CASE WHEN $3 THEN repeat('0', 64) END
FROM generate_series(1, $4) g
"""


async def test_sealing_a_batch_reads_no_entry_by_a_sequential_scan(tenant: Tenant) -> None:
    async with rolled_back() as conn:  # uncommitted: the test server's sealer never sees these entries
        # a trail of sealed entries (another organization's, no foreign key), then a batch to seal
        await pg_fetch(_ENTRIES, "aud_sealed_", "org_sealed_trail", True, 5 * rows.BATCH, conn=conn)
        await pg_fetch(_ENTRIES, "aud_unsealed_", tenant.organization_id, False, rows.BATCH, conn=conn)
        before, _ = await rows_read(conn, "audit_entries")
        sealed = 0
        for _ in range(100):  # the server's sealer may hold the chain's lock a moment
            if sealed := await seal_pending():
                break
            await asyncio.sleep(0.05)
        read = (await rows_read(conn, "audit_entries"))[0] - before
        assert sealed == rows.BATCH
        assert read == 0, f"sealing {sealed} entries read {read} by a sequential scan"
