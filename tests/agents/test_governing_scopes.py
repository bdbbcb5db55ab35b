"""A key bound to an agent never governs: it cannot re-enable its agent after the kill switch, mint
keys, write policies or reviewer groups, or decide, whatever scopes it holds (admin included); and
no door issues a bound key with those scopes. Reading and proposing keep working."""

from __future__ import annotations

import httpx
import pytest

from models.agents import Agent
from models.api_keys import ApiKey
from resolvers.errors import Invalid
from tests.agents.helpers import as_key, legacy_bound_key, register
from tests.conftest import Tenant

GOVERNING = ["admin", "agents:write", "policies:write", "approvals:write"]
CREATE_KEY = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }"
BOUND_DENIAL = "a key bound to an agent cannot"


def forbidden_as_bound(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == "FORBIDDEN" and BOUND_DENIAL in body["message"], body


async def test_no_door_issues_a_bound_key_with_a_governing_scope(tenant: Tenant) -> None:
    from resolvers.keys.api_keys import issue_for_organization

    agent = await register(tenant, "minter")
    keys_before = await ApiKey.all().count()
    async with tenant.client() as c:
        for scope in GOVERNING:
            response = await c.post("/api/v1/api-keys", json={"name": "k", "scopes": ["actions:write", scope],
                                                              "agentId": agent["id"]})
            assert response.status_code == 400, (scope, response.text)
            assert response.json()["error"] == "VALIDATION_ERROR"
            assert scope in response.json()["message"] and "bound to an agent" in response.json()["message"]
            out = await tenant.graphql(CREATE_KEY, {"i": {"name": "k", "scopes": [scope], "agentId": agent["id"]}})
            assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", (scope, out)
            with pytest.raises(Invalid):
                await issue_for_organization(tenant.organization_id, name="cli", scopes=[scope], rate_limit=None,
                                             agent_id=agent["id"])
    assert await ApiKey.all().count() == keys_before
    async with tenant.client() as c:  # the same scopes unbound, and reading or proposing bound, are fine
        unbound = await c.post("/api/v1/api-keys", json={"name": "ops", "scopes": GOVERNING})
        bound = await c.post("/api/v1/api-keys", json={"name": "bot", "agentId": agent["id"],
                                                       "scopes": ["actions:write", "agents:read", "*:read"]})
    assert (unbound.status_code, bound.status_code) == (201, 201)


async def test_a_stopped_agent_cannot_restart_itself_or_mint_keys(tenant: Tenant) -> None:
    agent = await register(tenant, "killme2")
    key_id, secret = await legacy_bound_key(tenant, agent["id"], ["actions:write", "*:read", *GOVERNING])
    async with tenant.client() as c:
        assert (await c.delete(f"/agents/{agent['id']}")).status_code == 200
        other = (await c.post("/agents", json={"name": "bystander"})).json()
    bot = as_key(tenant, secret)
    keys_before = await ApiKey.all().count()
    async with bot.client() as c:
        for method, path, body in [
            ("PATCH", f"/agents/{agent['id']}", {"status": "active"}),
            ("PATCH", f"/api/v1/agents/{other['id']}", {"status": "disabled"}),
            ("DELETE", f"/agents/{other['id']}", None),
            ("POST", "/agents", {"name": "spawn"}),
            ("POST", "/api/v1/api-keys", {"name": "escape", "scopes": ["approvals:write"]}),
            ("GET", "/api/v1/api-keys", None),
            ("DELETE", f"/api/v1/api-keys/{key_id}", None),
            ("POST", "/policy", {"rules": [{"when": {"actionType": "x"}, "deny": True}]}),
            ("POST", "/api/v1/reviewer-groups", {"name": "mine"}),
        ]:
            forbidden_as_bound(await c.request(method, path, json=body))
        assert (await c.get(f"/agents/{agent['id']}")).json()["status"] == "disabled"  # reading still works
        assert (await c.get("/policy")).status_code == 200
        assert (await c.get("/api/v1/reviewer-groups")).status_code == 200
        proposed = await c.post("/actions", json={"type": "x", "actor": {"kind": "agent"}})
    assert proposed.status_code == 201 and proposed.json()["status"] == "rejected"  # still stopped
    for query, variables in [
        ('mutation($id: ID!) { updateAgent(id: $id, input: {status: "active"}) { id } }', {"id": agent["id"]}),
        ('mutation { registerAgent(input: {name: "spawn"}) { id } }', {}),
        (CREATE_KEY, {"i": {"name": "escape", "scopes": ["approvals:write"]}}),
        ('mutation($r: JSON!) { createPolicy(input: {rules: $r}) { id } }', {"r": [{"when": {"actionType": "x"}}]}),
        ('mutation { createReviewerGroup(input: {name: "mine"}) { id } }', {}),
    ]:
        out = await bot.graphql(query, variables)
        assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN", (query, out)
        assert BOUND_DENIAL in out["errors"][0]["message"]
    assert (await Agent.get(id=agent["id"])).status == "disabled"
    assert (await Agent.get(id=other["id"])).status == "active"
    assert await ApiKey.all().count() == keys_before and (await ApiKey.get(id=key_id)).revoked_at is None



async def test_a_bound_admin_key_withdraws_only_its_own_actions(tenant: Tenant) -> None:
    """An admin key may cancel any key's pending action; a bound one, admin or not, only its own."""
    agent = await register(tenant, "canceller")
    _, secret = await legacy_bound_key(tenant, agent["id"], ["admin", "actions:write"])
    async with tenant.client() as c:
        assert (await c.post("/policy", json={"rules": [{"when": {"actionType": "pay"}}]})).status_code == 201
        others = (await c.post("/actions", json={"type": "pay", "actor": {"kind": "agent"}})).json()
    async with as_key(tenant, secret).client() as bound:
        own = (await bound.post("/actions", json={"type": "pay", "actor": {"kind": "agent"}})).json()
        refused = await bound.post(f"/api/v1/actions/{others['actionId']}/cancel", json={})
        withdrawn = await bound.post(f"/api/v1/actions/{own['actionId']}/cancel", json={})
    assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN", refused.text
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled", withdrawn.text
