"""A lease reads the deliveries it takes, not the backlog (PostgreSQL, migration 0020): planned from
statistics that never saw the backlog pending, the lease read every pending delivery to keep ten.
And which of the dispatcher's writes wait for the WAL flush: a lease and a record of successes to a
healthy webhook do not (losing one is an expired lease, sent again with the same id); a record that
may change a webhook's health does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.core.bus import Bus
from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.senders import Answer, OutgoingClient
from app.core.settings import Settings
from models.db import pg_execute, pg_fetch
from models.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from resolvers.context import Services
from resolvers.webhooks.dispatch import Claimed, Outcome, record_batch
from resolvers.webhooks.leases import lease_rows, leases_of
from tests.conftest import Tenant
from tests.reads import rolled_back, rows_read

_DELIVERIES = """
INSERT INTO webhook_deliveries
    (id, organization_id, webhook_id, event_id, event_type, payload, status, attempts, next_attempt_at, created_at)
SELECT 'dlv_' || $4 || '_' || right($2, 6) || '_' || g, $1, $2, 'evt_' || g, 'webhook.test', '{}', $4, 0, $3, $3
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
        assert [row["w_id"] is not None for row in leased].count(True) == 1  # one webhook: its columns once
        assert read <= 40, f"the lease read {read} rows of webhook_deliveries to take 10"


async def test_each_leased_delivery_gets_its_own_webhook_and_a_gone_one_none(tenant: Tenant) -> None:
    """A webhook's columns come back on one of its rows only; every lease still gets its webhook."""
    later = utcnow() + timedelta(hours=1)
    first = await _deliveries(tenant, 3, "pending", later)
    second = await _deliveries(tenant, 2, "pending", later)
    gone = new_id("wh")  # deliveries the relay wrote as their webhook was being deleted
    await pg_execute(_DELIVERIES.replace("'dlv_' || $4", "'dlv_gone_' || $4"), tenant.organization_id, gone, later,
                     "pending", 1)
    due_at = later + timedelta(minutes=1)
    async with rolled_back() as conn:
        rows = await lease_rows(due_at, 10, due_at + timedelta(minutes=5), conn=conn)
        leases = leases_of(rows)
    assert sorted(row["w_id"] for row in rows if row["w_id"] is not None) == sorted([first, second])
    assert [lease.delivery.id for lease in leases] == [row["id"] for row in rows]
    owners = {lease.delivery.id: lease.webhook.id if lease.webhook else None for lease in leases}
    assert sorted(owners.values(), key=str) == sorted([first] * 3 + [second] * 2 + [None], key=str)
    for lease in leases:
        assert (lease.webhook.id if lease.webhook else gone) == lease.delivery.webhook_id
        if lease.webhook is not None:
            assert lease.webhook.url == "https://example.com/h" and lease.webhook.secret.startswith("whsec_")


async def test_a_lease_does_not_wait_for_the_flush(tenant: Tenant) -> None:
    later = utcnow() + timedelta(hours=1)
    await _deliveries(tenant, 3, "pending", later)
    due_at = later + timedelta(minutes=1)
    async with rolled_back() as conn:
        assert await _commit_waits(conn) == "on"
        leased = await lease_rows(due_at, 10, due_at + timedelta(minutes=5), conn=conn)
        assert len(leased) == 3
        assert await _commit_waits(conn) == "off"


async def test_only_a_record_that_changes_no_webhook_s_health_skips_the_flush(tenant: Tenant,
                                                                           settings: Settings) -> None:
    services = Services(settings=settings, bus=Bus(), http=OutgoingClient(allow_private=True))
    hook = await Webhook.create(id=new_id("wh"), organization_id=tenant.organization_id, name="flush hook",
                                url="https://example.com/h", events=["nothing.matches"],
                                secret="whsec_" + "A" * 43 + "=")
    succeeded, failed = Outcome(Answer(200, None, "ok", 5), None), Outcome(Answer(500, None, "no", 5), None)
    for outcome, waits in ((succeeded, "off"), (failed, "on")):
        async with rolled_back() as conn:  # uncommitted: the test server's dispatcher never sees it
            delivery = await WebhookDelivery.create(
                id=new_id("dlv"), organization_id=tenant.organization_id, webhook_id=hook.id, event_id="evt_x",
                event_type="webhook.test", payload="{}", status="pending", next_attempt_at=utcnow())
            await record_batch(services, [(Claimed(delivery, hook), outcome)])  # type: ignore[arg-type]
            assert await DeliveryAttempt.filter(delivery_id=delivery.id).count() == 1  # recorded, in this transaction
            assert await _commit_waits(conn) == waits
    await services.http.aclose()


async def _commit_waits(conn: Any) -> str:
    """The transaction's `synchronous_commit`: "on" waits for the WAL flush, "off" does not."""
    return str((await pg_fetch("SELECT current_setting('synchronous_commit') AS s", conn=conn))[0]["s"])


async def _deliveries(tenant: Tenant, count: int, status: str, due: datetime) -> str:
    """`count` deliveries in `status` to a new webhook of the tenant, due at `due`; the webhook's id."""
    hook = await Webhook.create(id=new_id("wh"), organization_id=tenant.organization_id, name=f"{status} hook",
                                url="https://example.com/h", events=["nothing.matches"],
                                secret="whsec_" + "A" * 43 + "=")
    await pg_execute(_DELIVERIES, tenant.organization_id, hook.id, due, status, count)
    return hook.id
