"""Acceptance 4: an agent's counts stay exact under 50 concurrent proposals and concurrent decisions
(PostgreSQL, the one-statement path), and liveness is written at most once a minute."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from models.agents import Agent
from models.governance import Action
from tests.agents.helpers import as_key, bound_key, register
from tests.conftest import Tenant

POLICY = {"rules": [
    {"when": {"params": {"kind": "deny"}}, "deny": True},
    {"when": {"params": {"kind": "review"}}},
]}
KINDS = ("deny", "review", "fine")


async def counts_from_actions(agent_id: str) -> dict[str, int]:
    statuses = Counter([a.status for a in await Action.filter(agent_id=agent_id)])
    return {"totalActions": sum(statuses.values()), "approvedActions": statuses["approved"],
            "blockedActions": statuses["rejected"] + statuses["expired"],
            "pendingActions": statuses["pending_approval"]}


async def test_counts_are_exact_under_50_concurrent_proposals(tenant: Tenant) -> None:
    async with tenant.client() as c:
        assert (await c.post("/policy", json=POLICY)).status_code == 201
    agent = await register(tenant, "busy-bot")
    bot = as_key(tenant, await bound_key(tenant, agent["id"]))
    async with bot.client(limits=httpx.Limits(max_connections=50)) as c:
        answers = await asyncio.gather(*[
            c.post("/actions", json={"type": "send", "actor": {"kind": "agent"}, "params": {"kind": KINDS[i % 3]}})
            for i in range(50)
        ])
    assert [a.status_code for a in answers] == [201] * 50
    agent_row = await Agent.get(id=agent["id"])
    first_stamp = agent_row.last_action_at
    assert first_stamp is not None

    pending = [a.json()["actionId"] for a in answers if a.json()["status"] == "pending_approval"]
    assert len(pending) == 17
    async with tenant.client(limits=httpx.Limits(max_connections=20)) as c:
        decided = await asyncio.gather(
            *[c.post(f"/approve/{action_id}", json={"approver": "ann"}) for action_id in pending[:8]],
            *[c.post(f"/reject/{action_id}", json={"reason": "no"}) for action_id in pending[8:13]],
            *[c.post(f"/reject/{action_id}", json={"reason": "twice"}) for action_id in pending[8:10]],  # 409s
        )
        assert sorted(d.status_code for d in decided) == [200] * 13 + [409] * 2
        metrics = (await c.get(f"/agents/{agent['id']}")).json()["metrics"]
    assert metrics == {"totalActions": 50, "approvedActions": 16 + 8, "blockedActions": 17 + 5, "pendingActions": 4}
    assert metrics == await counts_from_actions(agent["id"])

    async with bot.client() as c:
        assert (await c.post("/actions", json={"type": "send", "actor": {"kind": "agent"}})).status_code == 201
    assert (await Agent.get(id=agent["id"])).last_action_at == first_stamp  # not rewritten within the minute
    for _ in range(50):  # lastSeenAt is written off the request path: wait for it
        if (await Agent.get(id=agent["id"])).last_seen_at is not None:
            break
        await asyncio.sleep(0.05)
    assert (await Agent.get(id=agent["id"])).last_seen_at is not None


async def test_unregistered_agent_ids_count_nothing_and_other_orgs_are_untouched(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await register(other_tenant, "bot")
    async with tenant.client() as c:
        for agent_id in ("agent-7", theirs["id"]):
            body = {"type": "x", "actor": {"kind": "agent", "name": "bot"}, "agentId": agent_id}
            response = await c.post("/actions", json=body)
            assert response.status_code == 201 and response.json()["status"] == "approved"
    row = await Agent.get(id=theirs["id"])
    assert (row.total_actions, row.last_action_at) == (0, None)
