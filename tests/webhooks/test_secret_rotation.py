"""Secret rotation under concurrency: every secret an answer hands out signs the next deliveries."""

from __future__ import annotations

import asyncio

from tests.conftest import Tenant
from tests.webhooks.receiver import eventually, receiving, verify_signature, verify_standard
from tests.webhooks.test_delivery import create_hook

ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }"


async def test_two_rotations_at_once_both_answer_secrets_that_sign(tenant: Tenant) -> None:
    """Two rotations racing (a double click, REST and GraphQL at once) used to read the same
    current secret, so both kept it as the previous one and one answer's secret never signed
    anything: a receiver configured with it failed every delivery. Now they queue on the webhook's
    row: the later one keeps the earlier one's secret as the previous, so both verify during the
    grace period and the newest one is the X-Webhook-Signature key."""
    async with receiving() as receiver:
        hook = await create_hook(tenant, receiver.url)
        path = f"/api/v1/webhooks/{hook['id']}"
        async with tenant.client() as c:
            for round_ in range(3):
                by_rest, by_graphql = await asyncio.gather(
                    c.post(f"{path}/rotate-secret"), tenant.graphql(ROTATE, {"id": hook["id"]})
                )
                assert by_rest.status_code == 200, by_rest.text
                secrets = [by_rest.json()["secret"], by_graphql["data"]["rotateWebhookSecret"]["secret"]]
                assert (await c.post(f"{path}/test")).status_code == 202
                await eventually(lambda n=round_ + 1: len(receiver.requests) == n)
                request = receiver.requests[-1]
                assert len(request.headers["webhook-signature"].split(" ")) == 2
                for secret in secrets:
                    verify_standard(request, secret)  # raises when this answer's secret does not sign
                assert any(verify_signature(request.body, request.headers["X-Webhook-Signature"], s)
                           for s in secrets)
            audit = (await c.get("/api/v1/audit", params={"limit": 50})).json()
    assert sum(entry["type"] == "webhook.secret_rotated" for entry in audit) == 6
