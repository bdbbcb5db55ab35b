"""The dispatcher survives its database failing under it: the job ends and the supervisor restarts it."""

from __future__ import annotations

import asyncio

from tortoise import connections

from tests.conftest import Tenant
from tests.webhooks.receiver import eventually, receiving


async def test_deliveries_resume_after_claims_fail(tenant: Tenant) -> None:
    conn = connections.get("default")
    async with receiving() as receiver, tenant.client() as c:
        hook = (await c.post("/api/v1/webhooks", json={"name": "r", "url": receiver.url, "events": ["*"]})).json()
        await conn.execute_script("ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_away")
        try:
            await asyncio.sleep(1.5)  # every claim in this window fails with a real database error
        finally:
            await conn.execute_script("ALTER TABLE webhook_deliveries_away RENAME TO webhook_deliveries")
        assert (await c.post(f"/api/v1/webhooks/{hook['id']}/test")).status_code == 202
        await eventually(lambda: receiver.requests)
    assert receiver.requests[0].json["event"] == "webhook.test"
