"""Verify while retention trims: the entries it removes are not a break in the chain."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.core.clock import parse_timestamp
from resolvers.audit.retention import trim_before
from tests.audit.helpers import sql, verified
from tests.conftest import Tenant

ENTRIES = 10_000
CLIENTS, VERIFIES = 6, 6
START = "2026-01-01T00:00:00Z"  # the entries are one second apart from here


async def test_a_verify_that_runs_while_retention_trims_finds_no_break(tenant: Tenant) -> None:
    """Verify read the anchor, then walked from it: retention committing in between removed the
    entries it was about to read, and it answered `missing` (ok false), a false tamper alarm, on
    the organization's whole chain. Now a verify whose anchor moved while it ran starts again from
    the new one."""
    await sql("""INSERT INTO audit_entries (id, organization_id, type, resource_id, actor, changes, created_at)
                 SELECT 'aud_t' || g, $1, 'policy.created', 'pol_t', 'key_t', '{"after": {"n": 1}}'::jsonb,
                        $2::timestamptz + g * interval '1 second' FROM generate_series(1, $3::int) g""",
              tenant.organization_id, parse_timestamp(START), ENTRIES)
    await verified(tenant)
    stop = asyncio.Event()

    async def trimming() -> int:  # retention, over and over, 10 entries at a time
        cutoff, removed = parse_timestamp(START), 0
        while not stop.is_set() and removed < ENTRIES // 2:
            cutoff += timedelta(seconds=10)
            removed += await trim_before(cutoff)
        return removed

    async def verifying() -> list[dict]:
        async with tenant.client() as c:
            return [(await c.post("/api/v1/audit/verify", json={})).json() for _ in range(VERIFIES)]

    trimmer = asyncio.create_task(trimming())
    try:
        reports = [r for batch in await asyncio.gather(*(verifying() for _ in range(CLIENTS))) for r in batch]
    finally:
        stop.set()
        removed = await trimmer
    assert removed > 0 and len(reports) == CLIENTS * VERIFIES
    assert [r["mismatch"] for r in reports if not r["ok"]] == []
    final = await verified(tenant)
    assert (final["ok"], final["checked"], final["anchorPosition"]) == (True, ENTRIES - removed, removed)
