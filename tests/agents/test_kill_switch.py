"""Acceptance 3: disabling an agent stops it at once (its proposals, its pending actions, its live
connections) and leaves every other agent alone; re-enabling revives nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from models.agents import Agent
from models.governance import Action, ActionHistory, Approval
from tests.agents.helpers import as_key, bound_key, register
from tests.conftest import Tenant
from tests.graphql.ws import gql_ws

REVIEWED = {"rules": [{"when": {"actionType": "send_email"}, "require": ["review"]}]}
UPDATES = "subscription { actionUpdated { seq } }"


async def propose(tenant: Tenant, key: str, name: str, action_type: str = "send_email") -> Any:
    async with as_key(tenant, key).client() as c:
        return await c.post("/actions", json={"type": action_type, "actor": {"kind": "agent", "name": name}})


async def test_disabling_rejects_pending_refuses_new_closes_sockets_and_spares_others(tenant: Tenant) -> None:
    async with tenant.client() as c:
        assert (await c.post("/policy", json=REVIEWED)).status_code == 201
    stopped, spared = await register(tenant, "mailer"), await register(tenant, "helper")
    stopped_key, spared_key = await bound_key(tenant, stopped["id"]), await bound_key(tenant, spared["id"])
    pending = [(await propose(tenant, stopped_key, "mailer")).json() for _ in range(2)]
    approved = (await propose(tenant, stopped_key, "mailer", "read_inbox")).json()
    other = (await propose(tenant, spared_key, "helper")).json()
    assert [p["status"] for p in pending] + [approved["status"], other["status"]] == [
        "pending_approval", "pending_approval", "approved", "pending_approval"]

    async with gql_ws(tenant.base_url, stopped_key) as ws, gql_ws(tenant.base_url, spared_key) as spared_ws:
        await ws.subscribe("1", UPDATES)
        await spared_ws.subscribe("1", UPDATES)
        await asyncio.sleep(0.1)
        async with tenant.client() as c:
            response = await c.patch(f"/agents/{stopped['id']}", json={"status": "disabled"})
        assert response.status_code == 200 and response.json()["status"] == "disabled"
        started = asyncio.get_running_loop().time()
        assert await ws.closed_with(within=2) == 4403
        assert asyncio.get_running_loop().time() - started < 1.0
        assert spared_ws.ws.close_code is None
        async with as_key(tenant, stopped_key).client() as c:
            assert (await c.get("/actions?limit=1")).status_code == 200  # the key still works: not a 401

    reason = f"agent mailer ({stopped['id']}) is disabled"
    for earlier in pending:
        action = await Action.get(id=earlier["actionId"])
        assert (action.status, action.reason, action.decided_by) == ("rejected", reason, "system:kill-switch")
        assert (await Approval.get(action_id=action.id)).status == "rejected"
        assert await ActionHistory.filter(action_id=action.id, kind="rejected").count() == 1
    assert (await Action.get(id=approved["actionId"])).status == "approved"  # decided ones stay as they were
    assert (await Action.get(id=other["actionId"])).status == "pending_approval"

    refused = await propose(tenant, stopped_key, "mailer")
    assert refused.status_code == 201
    body = refused.json()
    assert body["status"] == "rejected" and body["decision"] == {"status": "rejected", "checks": [], "reason": reason}
    assert (await propose(tenant, spared_key, "helper")).json()["status"] == "pending_approval"
    async with tenant.client() as c:
        metrics = (await c.get(f"/agents/{stopped['id']}")).json()["metrics"]
    assert metrics == {"totalActions": 4, "approvedActions": 1, "blockedActions": 3, "pendingActions": 0}
    assert (await Agent.get(id=spared["id"])).pending_actions == 2

    async with tenant.client() as c:
        assert (await c.patch(f"/agents/{stopped['id']}", json={"status": "active"})).status_code == 200
    assert (await propose(tenant, stopped_key, "mailer")).json()["status"] == "pending_approval"
    statuses = [(await Action.get(id=p["actionId"])).status for p in pending]
    assert statuses == ["rejected", "rejected"]  # nothing revived


async def test_a_disabled_agents_key_cannot_open_a_subscription(tenant: Tenant) -> None:
    agent = await register(tenant, "mailer")
    key = await bound_key(tenant, agent["id"])
    async with tenant.client() as c:
        assert (await c.delete(f"/api/v1/agents/{agent['id']}")).status_code == 200
    async with gql_ws(tenant.base_url, init=False) as ws:
        await ws.send({"type": "connection_init", "payload": {"apiKey": key}})
        assert await ws.closed_with(within=2) == 4403
        assert ws.ws.close_reason == "Forbidden: the agent of this API key is disabled"


async def test_disable_agent_mutation_and_self_declared_proposals(tenant: Tenant) -> None:
    """An unbound key naming a disabled agent's id is stopped too: stopping is always safe."""
    agent = await register(tenant, "mailer")
    out = await tenant.graphql("mutation($id: ID!) { disableAgent(id: $id) { id status metrics { totalActions } } }",
                               {"id": agent["id"]})
    assert out["data"]["disableAgent"]["status"] == "disabled"
    async with tenant.client() as c:
        body = {"type": "x", "actor": {"kind": "agent", "name": "mailer"}, "agentId": agent["id"]}
        response = await c.post("/actions", json=body)
    assert response.json()["status"] == "rejected" and "disabled" in response.json()["decision"]["reason"]
    assert (await Agent.get(id=agent["id"])).blocked_actions == 1


async def test_proposals_racing_the_switch_leave_nothing_pending(tenant: Tenant) -> None:
    """Whichever way a proposal and the switch interleave, no action of the agent stays pending and
    its counts still add up."""
    async with tenant.client() as c:
        assert (await c.post("/policy", json=REVIEWED)).status_code == 201
    agent = await register(tenant, "racer")
    key = await bound_key(tenant, agent["id"])

    async def disable_soon() -> None:
        await asyncio.sleep(0.05)
        async with tenant.client() as c:
            assert (await c.delete(f"/agents/{agent['id']}")).status_code == 200

    answers, _ = await asyncio.gather(asyncio.gather(*[propose(tenant, key, "racer") for _ in range(30)]),
                                      disable_soon())
    assert {a.status_code for a in answers} == {201}
    actions = await Action.filter(agent_id=agent["id"])
    assert len(actions) == 30 and {a.status for a in actions} == {"rejected"}
    row = await Agent.get(id=agent["id"])
    assert (row.total_actions, row.blocked_actions, row.pending_actions, row.approved_actions) == (30, 30, 0, 0)
