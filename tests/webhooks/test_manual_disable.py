"""A webhook disabled by hand says who disabled it (`disabledReason`, at both doors), as one disabled
after failures says why; enabling it clears the reason. Before, a manual disable left it null, so a
dashboard could not tell a webhook someone switched off from one that was never disabled."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import Tenant
from tests.graphql.ws import gql_ws

HOOK = {"name": "d", "url": "https://example.com/hook", "events": ["*"]}
DISABLE = "mutation($id: ID!) { updateWebhook(id: $id, input: {active: false}) { active disabledReason } }"


async def test_a_manual_disable_names_the_key_and_enabling_clears_it(tenant: Tenant) -> None:
    async with tenant.client() as admin:
        made = await admin.post("/api/v1/api-keys", json={"name": "ops", "scopes": ["webhooks:write"]})
        assert made.status_code == 201, made.text
        ops = made.json()
        rest_hook = (await admin.post("/api/v1/webhooks", json=HOOK)).json()
        graphql_hook = (await admin.post("/api/v1/webhooks", json=HOOK)).json()
    async with httpx.AsyncClient(base_url=tenant.base_url, headers={"Authorization": f"Bearer {ops['key']}"}) as c:
        disabled = await c.put(f"/api/v1/webhooks/{rest_hook['id']}", json={"active": False})
        assert disabled.status_code == 200, disabled.text
        assert disabled.json()["disabledReason"] == f"disabled by API key {ops['id']}"
        shown = await c.get(f"/api/v1/webhooks/{rest_hook['id']}")
        assert shown.json()["active"] is False and shown.json()["disabledReason"] == f"disabled by API key {ops['id']}"
        answer = await c.post("/graphql", json={"query": DISABLE, "variables": {"id": graphql_hook["id"]}})
        assert answer.json()["data"]["updateWebhook"] == {"active": False,
                                                          "disabledReason": f"disabled by API key {ops['id']}"}
        again = await c.put(f"/api/v1/webhooks/{rest_hook['id']}", json={"active": False, "name": "d2"})
        assert again.json()["disabledReason"] == f"disabled by API key {ops['id']}"  # kept, not re-stamped
        enabled = await c.post(f"/api/v1/webhooks/{rest_hook['id']}/enable")
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["active"] is True and enabled.json()["disabledReason"] is None


EVENTS = 'subscription { events(types: ["webhook.*"]) { event data } }'


async def test_a_manual_disable_emits_webhook_disabled_once_and_is_audited_as_one(server: str, tenant: Tenant) -> None:
    """A dashboard or another webhook listening for `webhook.disabled` hears a teammate switch one
    off, as it hears a disable after failures; a second `active: false` changes nothing and emits
    nothing. Before, a manual disable emitted no event and was audited as `webhook.updated`."""
    async with tenant.client() as admin:
        made = await admin.post("/api/v1/api-keys", json={"name": "ops", "scopes": ["webhooks:write", "audit:read"]})
        assert made.status_code == 201, made.text
        ops = made.json()
        rest_hook = (await admin.post("/api/v1/webhooks", json=HOOK)).json()
        graphql_hook = (await admin.post("/api/v1/webhooks", json=HOOK)).json()
    async with gql_ws(server, tenant.key) as ws, \
            httpx.AsyncClient(base_url=tenant.base_url, headers={"Authorization": f"Bearer {ops['key']}"}) as c:
        await ws.subscribe("1", EVENTS)
        await asyncio.sleep(0.3)
        assert (await c.put(f"/api/v1/webhooks/{rest_hook['id']}", json={"active": False})).status_code == 200
        assert (await c.put(f"/api/v1/webhooks/{rest_hook['id']}", json={"active": False})).status_code == 200
        answer = await c.post("/graphql", json={"query": DISABLE, "variables": {"id": graphql_hook["id"]}})
        assert answer.json()["data"]["updateWebhook"]["active"] is False, answer.text
        heard = [(await ws.next_data())["payload"]["data"]["events"] for _ in range(2)]
        with pytest.raises(TimeoutError):  # the second disable emitted nothing
            await ws.next_data(within=1.0)
        reason = f"disabled by API key {ops['id']}"
        assert heard == [
            {"event": "webhook.disabled", "data": {"webhookId": hook["id"], "name": "d", "url": HOOK["url"],
                                                   "reason": reason}}
            for hook in (rest_hook, graphql_hook)
        ], heard
        entries = (await c.get("/api/v1/audit", params={"resource": rest_hook["id"]})).json()
    [disabled] = [e for e in entries if e["type"] == "webhook.disabled"]  # the second PUT is no disable
    assert disabled["keyId"] == ops["id"], disabled
    assert disabled["changes"]["after"]["active"] is False, disabled
