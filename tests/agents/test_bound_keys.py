"""Acceptance 2: a key bound to an agent proposes as that agent only, never decides, and a policy
that requires verified actors cannot be dodged by another key of the organization naming the agent."""

from __future__ import annotations

from models.governance import Action
from tests.agents.helpers import as_key, bound_key, legacy_bound_key, register
from tests.conftest import Tenant

EMAIL = {"type": "send_email", "actor": {"kind": "agent", "name": "marketing-bot"}, "target": "a@example.com"}


async def test_a_bound_key_cannot_propose_as_anyone_else(tenant: Tenant) -> None:
    agent = await register(tenant, "marketing-bot")
    bound = as_key(tenant, await bound_key(tenant, agent["id"]))
    other = await register(tenant, "support-bot")
    refused = [
        {**EMAIL, "actor": {"kind": "agent", "name": "support-bot"}},
        {**EMAIL, "actor": {"kind": "human", "name": "marketing-bot"}},
        {**EMAIL, "agentId": other["id"]},
    ]
    async with bound.client() as c:
        for body in refused:
            response = await c.post("/actions", json=body)
            assert response.status_code == 403, body
            assert response.json()["error"] == "FORBIDDEN" and agent["id"] in response.json()["message"]
    assert await Action.all().count() == 0
    out = await bound.graphql("mutation($i: ProposeActionInput!) { proposeAction(input: $i) { action { id } } }",
                              {"i": {"type": "x", "actor": {"kind": "agent", "name": "support-bot"}}})
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN" and await Action.all().count() == 0

    async with bound.client() as c:
        named = await c.post("/actions", json=EMAIL)
        unnamed = await c.post("/api/v1/actions", json={"type": "x", "actor": {"kind": "agent"}})
        stored = (await c.get(f"/actions/{unnamed.json()['actionId']}")).json()
    assert named.status_code == 201 and unnamed.status_code == 201
    assert stored["actor"] == {"kind": "agent", "name": "marketing-bot", "verified": True}
    assert stored["agentId"] == agent["id"]


async def test_a_bound_key_never_approves_or_rejects(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await c.post("/policy", json={"rules": [{"when": {"actionType": "send_email"}}]})
        first = (await c.post("/actions", json=EMAIL)).json()
        second = (await c.post("/actions", json=EMAIL)).json()
    agent = await register(tenant, "marketing-bot")
    _key_id, secret = await legacy_bound_key(tenant, agent["id"], ["actions:write", "approvals:write", "admin"])
    bound = as_key(tenant, secret)
    async with bound.client() as c:
        for path, body in ((f"/approve/{first['actionId']}", {"approver": "me"}),
                           (f"/reject/{first['actionId']}", {"reason": "no"}),
                           (f"/api/v1/approvals/{first['approvalId']}/approve", {})):
            response = await c.post(path, json=body)
            assert response.status_code == 403, path
            assert response.json() == {"error": "FORBIDDEN",
                                       "message": "a key bound to an agent cannot approve or reject actions"}
    reject = "mutation($id: ID!) { rejectAction(approvalId: $id) { id } }"
    out = await bound.graphql(reject, {"id": second["approvalId"]})
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert {a.status for a in await Action.all()} == {"pending_approval"}


async def test_a_verified_actor_policy_cannot_be_dodged(tenant: Tenant) -> None:
    agent = await register(tenant, "marketing-bot")
    policy = {"rules": [
        {"when": {"actionType": "send_email", "actor": {"verified": False}}, "deny": True},
        {"when": {"agentId": agent["id"], "actor": {"verified": True}}, "require": ["review"], "approval": "auto"},
    ]}
    async with tenant.client() as c:
        created = await c.post("/policy", json=policy)
        assert created.status_code == 201
        assert created.json()["rules"][0]["when"] == {"actionType": "send_email", "actor": {"verified": False}}
        claimed = await c.post("/actions", json={**EMAIL, "agentId": agent["id"]})  # an admin key claiming the bot
        unrelated = await c.post("/actions", json={**EMAIL, "type": "read_inbox"})
    assert claimed.json()["status"] == "rejected"
    assert unrelated.json()["status"] == "approved"  # self-declared actors keep working where no rule objects
    async with as_key(tenant, await bound_key(tenant, agent["id"])).client() as c:
        real = await c.post("/actions", json=EMAIL)
        stored = (await c.get(f"/actions/{real.json()['actionId']}")).json()
    assert real.json()["status"] == "pending_approval"
    assert [ch["name"] for ch in real.json()["decision"]["checks"]] == ["review"]
    assert stored["actor"]["verified"] is True
    async with tenant.client() as c:
        unverified = (await c.get(f"/actions/{claimed.json()['actionId']}")).json()
    assert unverified["actor"] == {"kind": "agent", "name": "marketing-bot", "verified": False}


async def test_create_key_cli_binds_a_key(tenant: Tenant, settings: object) -> None:
    """`gatehouse create-key --agent` issues a bound key (the resolver the CLI calls, with its checks)."""
    from resolvers.keys.api_keys import issue_for_organization

    agent = await register(tenant, "cli-bot")
    created = await issue_for_organization(tenant.organization_id, name="cli", scopes=["actions:write"],
                                           rate_limit=None, agent_id=agent["id"])
    async with as_key(tenant, created.secret).client() as c:
        response = await c.post("/actions", json={"type": "x", "actor": {"kind": "agent", "name": "other"}})
    assert created.key.agent_id == agent["id"] and response.status_code == 403
