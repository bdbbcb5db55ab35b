"""A lease reads the deliveries it takes, not the backlog (PostgreSQL, migration 0020): planned from
statistics that never saw the backlog pending, the lease read every pending delivery to keep ten."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.ids import new_id
from models.db import pg_execute, pg_fetch
from models.webhooks import Webhook
from resolvers.webhooks.fanout import _INSERT_PG
from resolvers.webhooks.leases import lease_rows
from tests.conftest import Tenant

_READ = """SELECT seq_tup_read + COALESCE(idx_tup_fetch, 0) AS read
FROM pg_stat_xact_user_tables WHERE relname = 'webhook_deliveries'"""


async def test_a_lease_of_ten_reads_about_ten_rows_of_a_large_backlog(tenant: Tenant) -> None:
    later = utcnow() + timedelta(hours=1)  # not due for the test server's own dispatcher
    await _deliveries(tenant, 10_000, "succeeded", later)  # what a busy table mostly holds
    await _deliveries(tenant, 2_000, "pending", later)
    due_at = later + timedelta(minutes=1)
    async with atomic() as conn:  # the transaction's own counters: only this backend's reads
        before = (await pg_fetch(_READ, conn=conn))[0]["read"]
        leased = await lease_rows(due_at, 10, due_at + timedelta(minutes=5), conn=conn)
        read = (await pg_fetch(_READ, conn=conn))[0]["read"] - before
    assert len(leased) == 10
    assert all(row["w_id"] is not None for row in leased)
    assert read <= 40, f"the lease read {read} rows of webhook_deliveries to take 10"


async def _deliveries(tenant: Tenant, count: int, status: str, due: datetime) -> None:
    """`count` deliveries to a webhook of the tenant, written as the relay writes them, then moved
    to `status`."""
    hook = await Webhook.create(id=new_id("wh"), organization_id=tenant.organization_id, name=f"{status} hook",
                                url="https://example.com/h", events=["nothing.matches"],
                                secret="whsec_" + "A" * 43 + "=")
    ids = [new_id("dlv") for _ in range(count)]
    await pg_execute(_INSERT_PG, ids, [tenant.organization_id] * count, [hook.id] * count, ids,
                     ["webhook.test"] * count, ["{}"] * count, due)
    await pg_execute("UPDATE webhook_deliveries SET status = $1 WHERE id = ANY($2::varchar[])", status, ids)
