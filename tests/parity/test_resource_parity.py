"""Resources other than actions and approvals, read over REST and over GraphQL: both doors give the
same answers to the same question."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agents.helpers import as_key, bound_key, register
from tests.conftest import Tenant
from tests.parity.doors import Door as BaseDoor


class Door(BaseDoor):
    """The few reads a scenario needs, answered as plain dicts or lists."""

    async def agent_action_types(self, agent_id: str, **filters: str) -> Any:
        """The types of an agent's actions, newest first, filtered as given."""
        if self.kind == "rest":
            query = "&".join(f"{k}={v}" for k, v in filters.items())
            out = await self._rest("GET", f"/agents/{agent_id}/actions?{query}")
            return out if "error" in out else [a["type"] for a in out]
        args = "".join(f", {k}: ${k}" for k in filters)
        params = "".join(f", ${k}: String" for k in filters)
        actions = f"actions(first: 50{args}) {{ edges {{ node {{ type }} }} }}"
        q = f"query($id: ID!{params}) {{ agent(id: $id) {{ {actions} }} }}"
        out = await self._gql(q, {"id": agent_id, **filters})
        return out if "error" in out else [e["node"]["type"] for e in out["actions"]["edges"]]


@pytest.fixture(params=["rest", "graphql"])
def door(request: pytest.FixtureRequest, tenant: Tenant) -> Door:
    return Door(tenant, request.param)


async def test_an_agents_actions_filter_by_type(door: Door) -> None:
    """`type` narrows an agent's actions as it narrows GET /actions and `actions(type:)`; REST took the
    parameter (it is in the OpenAPI document) and answered every type."""
    agent = await register(door.tenant, "bot")
    async with as_key(door.tenant, await bound_key(door.tenant, agent["id"])).client() as c:
        for kind in ("pay", "send_email", "pay"):
            assert (await c.post("/actions", json={"type": kind, "actor": {"kind": "agent"}})).status_code == 201
    assert await door.agent_action_types(agent["id"]) == ["pay", "send_email", "pay"]
    assert await door.agent_action_types(agent["id"], type="pay") == ["pay", "pay"]
    assert await door.agent_action_types(agent["id"], type="pay", status="approved") == ["pay", "pay"]
    assert await door.agent_action_types(agent["id"], type="refund") == []
