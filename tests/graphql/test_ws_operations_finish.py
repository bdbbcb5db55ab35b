"""A mutation sent over the socket runs to its end, whatever the client does meanwhile.

`complete` for a single-result operation (or the socket closing) used to cancel the task running it,
wherever it was: a disableAgent cancelled after its commit, while the kill switch rejected the
agent's pending actions, left the agent disabled and its actions pending for a reviewer to approve.
Over HTTP a client that goes away never cancels its request; now the socket door behaves the same,
and only the result is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from models.agents import Agent
from models.governance import Action
from tests.agents.helpers import as_key, register
from tests.conftest import Tenant
from tests.graphql.ws import gql_ws

PENDING_ACTIONS = 150
DISABLE = "mutation($id: ID!) { disableAgent(id: $id) { id status } }"


async def _pending_after_the_kill_switch(agent_id: str) -> int:
    """The agent's actions still pending once the kill switch is done with them (or after 10 s)."""
    for _ in range(200):
        pending = await Action.filter(agent_id=agent_id, status="pending_approval").count()
        if not pending:
            break
        await asyncio.sleep(0.05)
    return pending


@pytest.mark.parametrize("leaving", ["complete", "close"])
async def test_a_mutation_the_client_stops_waiting_for_still_runs_to_its_end(
    server: str, tenant: Tenant, leaving: str
) -> None:
    async with tenant.client() as c:
        policy = {"rules": [{"when": {"actionType": "send_email"}, "require": ["review"]}]}
        assert (await c.post("/policy", json=policy)).status_code == 201
    agent = await register(tenant, "mailer")
    async with tenant.client() as c:
        created = await c.post("/api/v1/api-keys", json={"name": "mailer", "scopes": ["actions:write"],
                                                         "agentId": agent["id"], "rateLimit": 10_000})
    key = created.json()["key"]
    async with as_key(tenant, key).client() as c:
        for _ in range(PENDING_ACTIONS):
            proposed = await c.post("/actions", json={"type": "send_email", "actor": {"kind": "agent"}})
            assert proposed.status_code == 201 and proposed.json()["status"] == "pending_approval", proposed.text
    async with gql_ws(server, tenant.key) as ws:
        await ws.subscribe("off", DISABLE, {"id": agent["id"]})
        for _ in range(500):  # the agent's row is committed; the kill switch now rejects its actions
            if (await Agent.get(id=agent["id"])).status == "disabled":
                break
            await asyncio.sleep(0.005)
        if leaving == "complete":  # and the id reused at once: it carries only its new operation
            await ws.send({"type": "complete", "id": "off"})
            await ws.subscribe("off", "subscription { actionUpdated { event } }")
        pending = await _pending_after_the_kill_switch(agent["id"])
        if leaving == "complete":
            await asyncio.sleep(0.5)
            frames = []
            with contextlib.suppress(TimeoutError):
                while True:
                    frames.append(await ws.recv(1))
            assert frames and all(f["id"] == "off" and f["type"] == "next" for f in frames), frames[:3]
            assert {f["payload"]["data"]["actionUpdated"]["event"] for f in frames} == {"action.rejected"}
    assert (await Agent.get(id=agent["id"])).status == "disabled"
    assert pending == 0, f"{pending} of {PENDING_ACTIONS} actions of the disabled agent are still pending"
