"""Resources other than actions and approvals, read over REST and over GraphQL: both doors give the
same answers to the same question."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.core.clock import isoformat_z, utcnow
from models.notifications import Notification
from tests.agents.helpers import as_key, bound_key, register
from tests.approvals.helpers import make_policy, propose
from tests.conftest import Tenant, free_port
from tests.parity.doors import Door as BaseDoor
from tests.webhooks.receiver import eventually


def _query_string(filters: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in filters.items())


def _string_arguments(filters: dict[str, str]) -> tuple[str, str]:
    """GraphQL's `, $name: String` declarations and `, name: $name` arguments for the filters."""
    return "".join(f", ${k}: String" for k in filters), "".join(f", {k}: ${k}" for k in filters)


class Door(BaseDoor):
    """The few reads a scenario needs, answered as plain dicts or lists."""

    async def agent_action_types(self, agent_id: str, **filters: str) -> Any:
        """The types of an agent's actions, newest first, filtered as given."""
        if self.kind == "rest":
            out = await self._rest("GET", f"/agents/{agent_id}/actions?{_query_string(filters)}")
            return out if "error" in out else [a["type"] for a in out]
        params, args = _string_arguments(filters)
        actions = f"actions(first: 50{args}) {{ edges {{ node {{ type }} }} }}"
        q = f"query($id: ID!{params}) {{ agent(id: $id) {{ {actions} }} }}"
        out = await self._gql(q, {"id": agent_id, **filters})
        return out if "error" in out else [e["node"]["type"] for e in out["actions"]["edges"]]

    async def policy(self, rules: list[Any], status: str = "active") -> str:
        async with self.tenant.client() as c:
            response = await c.post("/policy", json={"mode": "enforce", "rules": rules, "status": status})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def policy_ids(self, **filters: str) -> Any:
        """The ids of the policies listed, newest first, filtered as given."""
        if self.kind == "rest":
            out = await self._rest("GET", f"/policy?{_query_string(filters)}")
            return out if "error" in out else [p["id"] for p in out]
        params, args = _string_arguments(filters)
        q = f"query($f: Int!{params}) {{ policies(first: $f{args}) {{ edges {{ node {{ id }} }} }} }}"
        out = await self._gql(q, {"f": 50, **filters})
        return out if "error" in out else [e["node"]["id"] for e in out["edges"]]


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


async def test_policies_filter_by_action_type(door: Door) -> None:
    """The policies with a rule that could apply to an action type (`GET /policy?actionType=`, the SDK's
    question) are listed by GraphQL's `policies(actionType:)` too; GraphQL had no such filter."""
    every = await door.policy([{"when": {"target": "prod/*"}, "deny": True}])
    pay = await door.policy([{"when": {"actionType": "refund"}}, {"when": {"actionType": "pay"}}])
    sends = await door.policy([{"when": {"actionType": "send_*"}}])
    old = await door.policy([{"when": {"actionType": ["pay", "refund"]}}], status="archived")
    assert await door.policy_ids(actionType="pay") == [old, pay, every]
    assert await door.policy_ids(actionType="send_email") == [sends, every]
    assert await door.policy_ids(actionType="pay", status="active") == [pay, every]
    assert await door.policy_ids(actionType="delete") == [every]
    assert await door.policy_ids(actionType="") == {"error": "VALIDATION_ERROR"}
    assert await door.policy_ids(actionType="x" * 201) == {"error": "VALIDATION_ERROR"}
    assert await door.policy_ids(status="archived") == [old]


async def test_policies_filtered_by_action_type_page_in_graphql(tenant: Tenant) -> None:
    """GraphQL's filtered list is a connection like any other: `first` and `after` page through matches."""
    door = Door(tenant, "graphql")
    ids = [await door.policy([{"when": {"actionType": "pay"}}]) for _ in range(3)]
    await door.policy([{"when": {"actionType": "refund"}}])
    q = "query($a: String) { policies(actionType: \"pay\", first: 2, after: $a) { edges { node { id } } " \
        "pageInfo { hasNextPage endCursor } } }"
    first = (await tenant.graphql(q))["data"]["policies"]
    assert [e["node"]["id"] for e in first["edges"]] == ids[:0:-1] and first["pageInfo"]["hasNextPage"]
    rest = (await tenant.graphql(q, {"a": first["pageInfo"]["endCursor"]}))["data"]["policies"]
    assert [e["node"]["id"] for e in rest["edges"]] == ids[:1] and not rest["pageInfo"]["hasNextPage"]


async def test_a_notices_next_attempt_reads_the_same_at_both_doors(tenant: Tenant) -> None:
    """A notice waiting for its next try says when at both doors: REST's `nextAttemptAt`, GraphQL's
    `Action.notifications { nextAttemptAt }`, which GraphQL lacked."""
    async with tenant.client() as c:
        credential = await c.post("/api/v1/credentials", json={
            "name": "api", "type": "custom", "provider": "custom_api", "data": {"headers": {"X-Key": "k"}}})
        created = await c.post("/api/v1/connectors", json={
            "name": "api", "type": "custom_api", "credentialId": credential.json()["id"],
            "config": {"actions": {"notify": {"url": f"http://127.0.0.1:{free_port()}/notify"}}}})  # nobody listens
        assert created.status_code == 201, created.text
        await make_policy(c, rules=[{"when": {"actionType": "refund"}}], notify=[created.json()["id"]])
        action = (await propose(c, type="refund"))["actionId"]

        async def tried() -> list[Notification]:
            return [r for r in await Notification.filter(action_id=action) if r.attempts > 0]

        await eventually(tried, within=20)
        [notice] = await tried()
        later = utcnow() + timedelta(hours=1)  # as the backoff's later waits are: nothing moves meanwhile
        await Notification.filter(id=notice.id, attempts=notice.attempts).update(next_attempt_at=later)
        [rest] = (await c.get(f"/api/v1/actions/{action}/notifications")).json()
    q = "query($id: ID!) { action(id: $id) { notifications { id status attempts nextAttemptAt } } }"
    out = await tenant.graphql(q, {"id": action})
    assert "errors" not in out, out["errors"]
    [graphql] = out["data"]["action"]["notifications"]
    assert rest["status"] == "pending" and rest["nextAttemptAt"] == isoformat_z(later)
    assert graphql == {k: rest[k] for k in ("id", "status", "attempts", "nextAttemptAt")}


async def test_times_read_the_same_at_both_doors(tenant: Tenant) -> None:
    """DESIGN.md's timestamps are ISO-8601 UTC with `Z`: a GraphQL DateTime is the very string REST
    gives for the same time, not Python's `isoformat()` with `+00:00` and microseconds; and a time
    read from either door is read back as input."""
    async with tenant.client() as c:
        await make_policy(c)
        proposed = await propose(c)
        rest = (await c.get(f"/actions/{proposed['actionId']}")).json()
        hook = await c.post("/api/v1/webhooks", json={"name": "h", "url": "https://example.com/h", "events": ["*"]})
        assert hook.status_code == 201, hook.text
    query = "query($id: ID!) { action(id: $id) { createdAt expiresAt decidedAt } }"
    read = (await tenant.graphql(query, {"id": proposed["actionId"]}))["data"]["action"]
    assert rest["createdAt"].endswith("Z") and rest["expiresAt"].endswith("Z"), rest
    assert read == {"createdAt": rest["createdAt"], "expiresAt": rest["expiresAt"], "decidedAt": None}, (read, rest)
    recover = "mutation($id: ID!, $t: DateTime!) { recoverWebhook(id: $id, since: $t) }"
    for text in (read["createdAt"], read["createdAt"].replace("Z", "+00:00")):
        out = await tenant.graphql(recover, {"id": hook.json()["id"], "t": text})
        assert out == {"data": {"recoverWebhook": 0}}, out
