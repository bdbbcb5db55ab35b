"""A webhook disabled by hand says who disabled it (`disabledReason`, at both doors), as one disabled
after failures says why; enabling it clears the reason. Before, a manual disable left it null, so a
dashboard could not tell a webhook someone switched off from one that was never disabled."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant

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
