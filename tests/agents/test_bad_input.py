"""Acceptance 5: bad input gets a 4xx with the documented body in both doors and changes nothing."""

from __future__ import annotations

from models.agents import Agent
from models.api_keys import ApiKey
from models.events import Event
from models.governance import Policy
from tests.agents.helpers import as_key, bound_key, register
from tests.conftest import Tenant

UPDATE = "mutation($id: ID!, $i: UpdateAgentInput!) { updateAgent(id: $id, input: $i) { id status } }"
CREATE_KEY = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }"


async def snapshot() -> tuple[list[tuple[str, str, str]], int, int, int]:
    agents = [(a.id, a.name, a.status) for a in await Agent.all().order_by("id")]
    return agents, await ApiKey.all().count(), await Policy.all().count(), await Event.all().count()


async def test_unknown_status_and_duplicate_names(tenant: Tenant) -> None:
    agent = await register(tenant, "mailer")
    await register(tenant, "helper")
    before = await snapshot()
    async with tenant.client() as c:
        for method, path, body, status, code in [
            ("PATCH", f"/agents/{agent['id']}", {"status": "sleeping"}, 400, "VALIDATION_ERROR"),
            ("PATCH", f"/api/v1/agents/{agent['id']}", {"name": "Helper"}, 409, "CONFLICT"),
            ("PATCH", f"/agents/{agent['id']}", {"colour": "red"}, 400, "VALIDATION_ERROR"),
            ("POST", "/agents", {"name": "MAILER"}, 409, "CONFLICT"),
            ("POST", "/agents", {"name": "!!!"}, 400, "VALIDATION_ERROR"),
            ("POST", "/agents", {"name": ""}, 400, "VALIDATION_ERROR"),
            ("POST", "/agents", {"name": "x", "config": {"webhookUrl": "ftp://example.com"}}, 400, "VALIDATION_ERROR"),
            ("POST", "/agents", {"name": "x", "proposalsPerMinute": 0}, 400, "VALIDATION_ERROR"),
            ("GET", "/agents?status=sleeping", None, 400, "VALIDATION_ERROR"),
            ("GET", f"/agents/{agent['id']}/actions?status=sleeping", None, 400, "VALIDATION_ERROR"),
            ("GET", "/agents/agt_nope", None, 404, "NOT_FOUND"),
            ("DELETE", "/agents/agt_nope", None, 404, "NOT_FOUND"),
        ]:
            response = await c.request(method, path, json=body)
            assert response.status_code == status, (path, body, response.text)
            assert response.json()["error"] == code and response.json()["message"]
    out = await tenant.graphql(UPDATE, {"id": agent["id"], "i": {"status": "sleeping"}})
    assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    out = await tenant.graphql("mutation { registerAgent(input: {name: \"helper\"}) { id } }")
    assert out["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await snapshot() == before


async def test_another_organizations_agent_on_a_key_or_a_rule(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await register(other_tenant, "their-bot")
    async with tenant.client() as c:
        policy = (await c.post("/policy", json={"rules": [{"when": {"actionType": "x"}}]})).json()
    before = await snapshot()
    async with tenant.client() as c:
        for method, path, body in [
            ("POST", "/api/v1/api-keys", {"name": "k", "scopes": ["actions:write"], "agentId": theirs["id"]}),
            ("POST", "/api/v1/api-keys", {"name": "k", "scopes": ["actions:write"], "agentId": "agt_nobody"}),
            ("POST", "/policy", {"rules": [{"when": {"agentId": theirs["id"]}, "deny": True}]}),
            ("POST", "/policy", {"rules": [{"when": {"agentId": [theirs["id"], "agt_x"]}}]}),
            ("PUT", f"/policy/{policy['id']}", {"rules": [{"when": {"agentId": theirs["id"]}}]}),
            ("POST", "/policy", {"rules": [{"when": {"actor": {"verified": "yes"}}}]}),
        ]:
            response = await c.request(method, path, json=body)
            assert response.status_code == 400, (path, body, response.text)
            assert response.json()["error"] == "VALIDATION_ERROR"
            assert theirs["id"] not in response.text or "not found in this organization" in response.text
    out = await tenant.graphql(CREATE_KEY, {"i": {"name": "k", "scopes": ["actions:write"], "agentId": theirs["id"]}})
    assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert await snapshot() == before
    assert (await Policy.get(id=policy["id"])).version == 1


async def test_agent_scopes(tenant: Tenant) -> None:
    agent = await register(tenant, "mailer")
    bot = as_key(tenant, await bound_key(tenant, agent["id"], ["actions:write"]))
    async with bot.client() as c:
        assert (await c.get("/agents")).json()["error"] == "FORBIDDEN"
        assert (await c.post("/agents", json={"name": "mine"})).status_code == 403
        assert (await c.patch(f"/agents/{agent['id']}", json={"status": "active"})).status_code == 403
