"""The agent registry over GraphQL: the same resolvers, answers and errors as REST."""

from __future__ import annotations

from tests.agents.helpers import as_key, bound_key
from tests.conftest import Tenant

FIELDS = "id orgId name slug description status config proposalsPerMinute lastSeenAt lastActionAt " \
         "metrics { totalActions approvedActions blockedActions pendingActions } createdAt updatedAt"
REGISTER = f"mutation($i: RegisterAgentInput!) {{ registerAgent(input: $i) {{ {FIELDS} }} }}"
AGENT = f"query($id: ID!) {{ agent(id: $id) {{ {FIELDS} actions(first: 10) {{ edges {{ node {{ id actor {{ kind " \
        "name verified } agentId decision { status reason } } } pageInfo { hasNextPage } } } }"
AGENTS = "query($s: String) { agents(status: $s, first: 10) { edges { node { id name status } } } }"


async def test_register_read_update_and_compare_with_rest(tenant: Tenant) -> None:
    out = await tenant.graphql(REGISTER, {"i": {"name": "Graph Bot", "config": {"webhookUrl": "https://e.x/h"},
                                                "proposalsPerMinute": 10}})
    created = out["data"]["registerAgent"]
    assert (created["slug"], created["status"], created["proposalsPerMinute"]) == ("graph-bot", "active", 10)
    async with tenant.client() as c:
        rest = (await c.get(f"/api/v1/agents/{created['id']}")).json()
    assert {k: rest[k] for k in ("id", "orgId", "name", "slug", "status", "config", "metrics")} == {
        "id": created["id"], "orgId": created["orgId"], "name": "Graph Bot", "slug": "graph-bot",
        "status": "active", "config": {"webhookUrl": "https://e.x/h"}, "metrics": created["metrics"]}

    async with as_key(tenant, await bound_key(tenant, created["id"])).client() as c:
        proposed = (await c.post("/actions", json={"type": "x", "actor": {"kind": "agent"}})).json()
    read = (await tenant.graphql(AGENT, {"id": created["id"]}))["data"]["agent"]
    assert read["metrics"] == {"totalActions": 1, "approvedActions": 1, "blockedActions": 0, "pendingActions": 0}
    [edge] = read["actions"]["edges"]
    assert edge["node"] == {"id": proposed["actionId"], "actor": {"kind": "agent", "name": "Graph Bot",
                                                                  "verified": True},
                            "agentId": created["id"], "decision": {"status": "approved", "reason": None}}
    node = await tenant.graphql("query($id: ID!) { node(id: $id) { ... on Agent { name } } }", {"id": created["id"]})
    assert node["data"]["node"] == {"name": "Graph Bot"}

    update = "mutation($id: ID!, $i: UpdateAgentInput!) { updateAgent(id: $id, input: $i) " \
             "{ name status description } }"
    out = await tenant.graphql(update, {"id": created["id"], "i": {"status": "error", "description": "flaky"}})
    assert out["data"]["updateAgent"] == {"name": "Graph Bot", "status": "error", "description": "flaky"}
    listed = (await tenant.graphql(AGENTS, {"s": "error"}))["data"]["agents"]["edges"]
    assert [e["node"]["id"] for e in listed] == [created["id"]]
    assert (await tenant.graphql(AGENTS, {"s": "active"}))["data"]["agents"]["edges"] == []


async def test_graphql_errors_match_rest(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = (await other_tenant.graphql(REGISTER, {"i": {"name": "bot"}}))["data"]["registerAgent"]
    out = await tenant.graphql(AGENT, {"id": theirs["id"]})
    assert out["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    out = await tenant.graphql(AGENTS, {"s": "sleeping"})
    assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    out = await tenant.graphql(REGISTER, {"i": {"name": "x", "config": {"colour": "red"}}})
    assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
