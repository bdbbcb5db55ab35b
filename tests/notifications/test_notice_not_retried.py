"""A notice whose send raises an exception no code path meant (here a KeyError from a connector
row whose config lacks what its action reads, written straight into the database as an older
row would sit there) was left `pending` and tried again up to 12 times over half an hour, logging
the same traceback each time. The same input raises the same error every time: the notice is
failed at once, saying so."""

from __future__ import annotations

from typing import Any

from models.connectors import Connector
from models.notifications import Notification
from tests.approvals.helpers import make_policy, propose
from tests.conftest import Tenant
from tests.webhooks.receiver import eventually

RULE = {"when": {"actionType": "refund"}, "approval": "manual"}


async def test_a_notice_that_fails_the_same_way_every_time_is_failed_not_retried(tenant: Tenant) -> None:
    async with tenant.client() as c:
        credential = await c.post("/api/v1/credentials", json={
            "name": "api", "type": "custom", "provider": "custom_api", "data": {"headers": {"X-Key": "k"}}})
        created = await c.post("/api/v1/connectors", json={
            "name": "api", "type": "custom_api", "credentialId": credential.json()["id"],
            "config": {"actions": {"notify": {"url": "https://api.example.com/notify"}}}})
        assert created.status_code == 201, created.text
        connector = created.json()["id"]
        await make_policy(c, rules=[RULE], notify=[connector])
        await Connector.filter(id=connector).update(config={"actions": {"notify": {"method": "POST"}}})
        action = await propose(c, type="refund")

        async def tried() -> list[Any]:
            return [r for r in await Notification.filter(action_id=action["actionId"]) if r.attempts > 0]

        await eventually(tried, within=20)
        [notice] = (await c.get(f"/api/v1/actions/{action['actionId']}/notifications")).json()
    assert notice["status"] == "failed", notice
    assert notice["attempts"] == 1 and "KeyError" in notice["lastError"] and "not retried" in notice["lastError"]
