"""Deliveries and their attempts keep no foreign keys on PostgreSQL (migrations 0019, 0022): deleting
a webhook deletes its deliveries and their attempts by hand, and a delivery written for a webhook
deleted at that moment is deleted, with its attempts, by the dispatcher when it leases it, instead
of staying pending for ever."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from tortoise import connections

from app.core.clock import utcnow
from app.core.ids import new_id
from models.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from resolvers.webhooks.purge import delete_deliveries
from tests.conftest import DATABASE_URL, Tenant
from tests.webhooks.receiver import Reply, eventually, receiving
from tests.webhooks.test_delivery import create_hook, emit_events


@pytest.mark.parametrize("table", ["webhook_deliveries", "webhook_delivery_attempts"])
async def test_the_delivery_log_keeps_no_foreign_keys(server: str, table: str) -> None:
    rows = await connections.get("default").execute_query_dict(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass", [table]
    )
    assert rows == []


async def test_deleting_a_webhook_deletes_its_deliveries_and_their_attempts(tenant: Tenant) -> None:
    async with receiving() as receiver:
        receiver.default = Reply(500)
        hook = await create_hook(tenant, receiver.url, retryPolicy={"maxAttempts": 5, "backoffMs": 60_000})
        await emit_events(tenant, ["action.approved", "action.rejected"])
        await eventually(lambda: DeliveryAttempt.filter(delivery__webhook_id=hook["id"]).count(), within=15)
        ids = await WebhookDelivery.filter(webhook_id=hook["id"]).values_list("id", flat=True)
        assert len(ids) == 2
        async with tenant.client() as c:
            assert (await c.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 200
        assert await WebhookDelivery.filter(webhook_id=hook["id"]).count() == 0
        assert await DeliveryAttempt.filter(delivery_id__in=list(ids)).count() == 0


async def test_a_delivery_whose_webhook_is_gone_is_deleted_when_leased(tenant: Tenant) -> None:
    async with receiving() as receiver:
        kept = await create_hook(tenant, receiver.url)
        orphan = await WebhookDelivery.create(
            id=new_id("dlv"), organization_id=tenant.organization_id, webhook_id=new_id("wh"), event_id=new_id("evt"),
            event_type="action.approved", payload="{}", next_attempt_at=utcnow(),
        )
        await emit_events(tenant, ["action.approved"])  # a delivery that is sent, to know the dispatcher ran
        await eventually(lambda: WebhookDelivery.filter(webhook_id=kept["id"], status="succeeded").exists())
        await eventually(lambda: _gone(orphan.id))
        assert len(receiver.requests) == 1


async def _gone(delivery_id: str) -> bool:
    return not await WebhookDelivery.filter(id=delivery_id).exists()


async def test_a_gone_webhook_s_delivery_is_deleted_with_its_attempts_when_leased(tenant: Tenant) -> None:
    async with receiving() as receiver:
        kept = await create_hook(tenant, receiver.url)
        orphan = await WebhookDelivery.create(
            id=new_id("dlv"), organization_id=tenant.organization_id, webhook_id=new_id("wh"), event_id=new_id("evt"),
            event_type="action.approved", payload="{}", attempts=1, next_attempt_at=utcnow(),
        )
        await DeliveryAttempt.create(delivery_id=orphan.id, number=1, attempted_at=utcnow(), status_code=500,
                                     duration_ms=3)  # its first attempt, before its webhook was deleted
        await emit_events(tenant, ["action.approved"])
        await eventually(lambda: WebhookDelivery.filter(webhook_id=kept["id"], status="succeeded").exists())
        await eventually(lambda: _gone(orphan.id))
        assert await DeliveryAttempt.filter(delivery_id=orphan.id).count() == 0


async def test_an_attempt_recorded_while_its_webhook_s_log_is_deleted_is_deleted_too(tenant: Tenant) -> None:
    """A dispatcher's record in flight (its delivery row locked, its attempt written, not yet
    committed) when the log is deleted: the deletion waits for it and deletes that attempt too. With
    the attempts deleted before the deliveries were locked, the attempt would outlive its delivery."""
    hook = await Webhook.create(id=new_id("wh"), organization_id=tenant.organization_id, name="purged",
                                url="https://example.com/h", events=["nothing.matches"],
                                secret="whsec_" + "A" * 43 + "=")
    later = utcnow() + timedelta(hours=1)  # never due for the test server's dispatcher
    delivery = await WebhookDelivery.create(id=new_id("dlv"), organization_id=tenant.organization_id,
                                            webhook_id=hook.id, event_id=new_id("evt"), event_type="action.approved",
                                            payload="{}", next_attempt_at=later)
    recorder = await asyncpg.connect(DATABASE_URL)
    try:
        recording = recorder.transaction()
        await recording.start()  # what leases.record_moves does: move the delivery, then log its attempt
        await recorder.execute("UPDATE webhook_deliveries SET attempts = 1, status = 'succeeded' WHERE id = $1",
                               delivery.id)
        await recorder.execute("INSERT INTO webhook_delivery_attempts (delivery_id, number, attempted_at, status_code,"
                               " duration_ms) VALUES ($1, 1, now(), 200, 3)", delivery.id)
        deleting = asyncio.create_task(delete_deliveries(webhook_id=hook.id))
        await asyncio.sleep(0.3)
        assert not deleting.done()  # waits for the record's row lock
        await recording.commit()
        await asyncio.wait_for(deleting, 10)
    finally:
        await recorder.close()
    assert not await WebhookDelivery.filter(id=delivery.id).exists()
    assert await DeliveryAttempt.filter(delivery_id=delivery.id).count() == 0
