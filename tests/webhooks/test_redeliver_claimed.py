"""Redelivering a delivery a dispatcher is sending right now: 409 at both doors, and the live claim
stays, so no second dispatcher can lease it and send it concurrently. Unclaimed, it is requeued."""

from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from app.core.ids import new_id
from models.webhooks import WebhookDelivery
from resolvers.webhooks.leases import lease_rows
from tests.conftest import Tenant
from tests.webhooks.receiver import receiving

REDELIVER = "mutation($w: ID!, $d: ID!) { redeliverWebhook(webhookId: $w, deliveryId: $d) { id status } }"


async def test_redeliver_leaves_a_live_claim_alone_and_answers_conflict(tenant: Tenant) -> None:
    async with receiving() as receiver, tenant.client() as c:
        hook = (await c.post("/api/v1/webhooks", json={"name": "a", "url": receiver.url, "events": ["*"]})).json()
        later = utcnow() + timedelta(hours=1)  # not due for the test server's own dispatcher
        delivery = await WebhookDelivery.create(
            id=new_id("dlv"), organization_id=tenant.organization_id, webhook_id=hook["id"], event_id="evt_x",
            event_type="webhook.test", payload="{}", status="pending", next_attempt_at=later)
        [leased] = await lease_rows(later, 10, later + timedelta(minutes=5))  # as a dispatcher at `later` would
        assert leased["id"] == delivery.id
        claimed = await WebhookDelivery.get(id=delivery.id)
        assert claimed.claimed_until is not None and claimed.claimed_until > utcnow()

        path = f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery.id}/redeliver"
        refused = await c.post(path)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "CONFLICT" and "being sent right now" in body["message"], body
        by_graphql = await tenant.graphql(REDELIVER, {"w": hook["id"], "d": delivery.id})
        assert by_graphql["errors"][0]["extensions"]["code"] == "CONFLICT", by_graphql
        kept = await WebhookDelivery.get(id=delivery.id)
        assert (kept.claimed_until, kept.next_attempt_at) == (claimed.claimed_until, claimed.next_attempt_at)
        assert await lease_rows(later, 10, later + timedelta(minutes=5)) == []  # nobody else can take it

        await WebhookDelivery.filter(id=delivery.id).update(status="failed", claimed_until=None)  # recorded
        again = await c.post(path)
        assert again.status_code == 202, again.text
        assert again.json()["status"] == "pending"
