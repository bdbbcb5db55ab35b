"""A lease reads the deliveries it takes, not the backlog (PostgreSQL, migration 0020): planned from
statistics that never saw the backlog pending, the lease read every pending delivery to keep ten."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.core.clock import utcnow
from app.core.ids import new_id
from models.db import pg_execute
from models.webhooks import Webhook
from resolvers.webhooks.leases import lease_rows
from tests.conftest import Tenant
from tests.reads import rolled_back, rows_read

_DELIVERIES = """
INSERT INTO webhook_deliveries
    (id, organization_id, webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
SELECT 'dlv_' || $4 || '_' || g, $1, $2, 'evt_' || g, 'webhook.test', '{}', $4, 0, $3, $3
FROM generate_series(1, $5) g
"""


async def test_a_lease_of_ten_reads_about_ten_rows_of_a_large_backlog(tenant: Tenant) -> None:
    later = utcnow() + timedelta(hours=1)  # not due for the test server's own dispatcher
    await _deliveries(tenant, 10_000, "succeeded", later)  # what a busy table mostly holds
    await _deliveries(tenant, 2_000, "pending", later)
    due_at = later + timedelta(minutes=1)
    async with rolled_back() as conn:
        _, before = await rows_read(conn, "webhook_deliveries")
        leased = await lease_rows(due_at, 10, due_at + timedelta(minutes=5), conn=conn)
        read = (await rows_read(conn, "webhook_deliveries"))[1] - before
        assert len(leased) == 10
        assert all(row["w_id"] is not None for row in leased)
        assert read <= 40, f"the lease read {read} rows of webhook_deliveries to take 10"


async def _deliveries(tenant: Tenant, count: int, status: str, due: datetime) -> None:
    """`count` deliveries in `status` to a webhook of the tenant, due at `due`."""
    hook = await Webhook.create(id=new_id("wh"), organization_id=tenant.organization_id, name=f"{status} hook",
                                url="https://example.com/h", events=["nothing.matches"],
                                secret="whsec_" + "A" * 43 + "=")
    await pg_execute(_DELIVERIES, tenant.organization_id, hook.id, due, status, count)
