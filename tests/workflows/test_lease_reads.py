"""A runner's claim reads the executions it takes, not the backlog (PostgreSQL, migration 0021):
planned from statistics that never saw the backlog due, a claim of 64 read all 3,000 pending
executions (and 24,338 index entries) to keep 64; and a capped workflow's room was counted over
every execution it ever ran."""

from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from models.db import pg_fetch
from resolvers.workflows.leases import lease_rows
from tests.conftest import Tenant
from tests.reads import rolled_back, rows_read

_WORKFLOW = """
WITH w AS (
    INSERT INTO workflows
        (id, organization_id, name, is_public, definition, concurrency, version, created_at, updated_at)
    VALUES ($1, $2, $1, false, '{}'::jsonb, $3, 1, now(), now()) RETURNING id
)
INSERT INTO workflow_versions (workflow_id, number, definition, created_at)
SELECT id, 1, '{}'::jsonb, now() FROM w RETURNING id
"""

_EXECUTIONS = """
INSERT INTO executions (id, organization_id, workflow_id, version_id, status, input, current_step, next_run_at,
                        lease, created_at, updated_at)
SELECT 'exe_' || $2 || left($4, 1) || g, $1, $2, $3, $4, '{}'::jsonb, 0, $5, 0, now(), now()
FROM generate_series(1, $6) g
"""


# Due long ago, so they are the oldest due: a claim takes them before any the other tests left.
LONG_AGO = timedelta(days=3650)


async def test_a_claim_of_ten_reads_about_ten_executions_of_a_large_backlog(tenant: Tenant) -> None:
    now = utcnow()
    async with rolled_back() as conn:  # uncommitted: the test server's runner never sees these rows
        for workflow_id, cap in (("wf_lr_open", None), ("wf_lr_capped", 5)):
            [version] = await pg_fetch(_WORKFLOW, workflow_id, tenant.organization_id, cap, conn=conn)
            for status, count in (("completed", 5_000), ("pending", 1_000)):  # a busy table is mostly finished
                await pg_fetch(_EXECUTIONS, tenant.organization_id, workflow_id, version["id"], status,
                               now - LONG_AGO, count, conn=conn)
        _, before = await rows_read(conn, "executions")
        leased = await lease_rows(now, 10, now + timedelta(minutes=5), (), conn=conn)
        read = (await rows_read(conn, "executions"))[1] - before
        assert len(leased) == 10
        assert {row["status"] for row in leased} == {"pending"}
        assert all(row["lease"] == 1 for row in leased)
        assert read <= 60, f"the claim read {read} rows of executions to take 10"


async def test_a_capped_workflow_is_not_claimed_past_its_room(tenant: Tenant) -> None:
    """The fast plan keeps the rule: a workflow capped at 2 with 2 held gets no more claimed."""
    now = utcnow()
    async with rolled_back() as conn:
        [version] = await pg_fetch(_WORKFLOW, "wf_lr_full", tenant.organization_id, 2, conn=conn)
        await pg_fetch(_EXECUTIONS, tenant.organization_id, "wf_lr_full", version["id"], "running",
                       now - LONG_AGO, 2, conn=conn)
        await pg_fetch("UPDATE executions SET claimed_until = $1 WHERE workflow_id = 'wf_lr_full'",
                       now + timedelta(minutes=5), conn=conn)
        await pg_fetch(_EXECUTIONS, tenant.organization_id, "wf_lr_full", version["id"], "pending",
                       now - LONG_AGO, 3, conn=conn)
        leased = await lease_rows(now, 10, now + timedelta(minutes=5), (), conn=conn)
        assert [row["id"] for row in leased if row["workflow_id"] == "wf_lr_full"] == []
