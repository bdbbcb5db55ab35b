"""Upstream MCP servers over REST and GraphQL (same rules, same errors), and cancel over both doors."""

from __future__ import annotations

from models.events import Event
from tests.conftest import Tenant
from tests.mcp.conftest import Upstream
from tests.mcp.test_native import MANUAL, policy

CREATE = """mutation($input: McpServerInput!) { createMcpServer(input: $input) { id name url gatewayPath } }"""
LIST = "{ mcpServers { edges { node { id name } } } }"
CANCEL = "mutation($id: ID!) { cancelAction(actionId: $id, reason: \"gone\") { id status } }"


async def test_crud_over_both_doors(tenant: Tenant, other_tenant: Tenant, upstream: Upstream) -> None:
    created = await tenant.graphql(CREATE, {"input": {"name": "files", "url": upstream.url}})
    server = created["data"]["createMcpServer"]
    assert server["gatewayPath"] == "/mcp/gateways/files"
    async with tenant.client() as c:
        listed = (await c.get("/api/v1/mcp-servers")).json()
        duplicate = await c.post("/api/v1/mcp-servers", json={"name": "files", "url": upstream.url})
        bad_name = await c.post("/api/v1/mcp-servers", json={"name": "Files!", "url": upstream.url})
        renamed = await c.put(f"/api/v1/mcp-servers/{server['id']}", json={"name": "docs"})
    assert [s["id"] for s in listed] == [server["id"]]
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "CONFLICT"
    assert bad_name.status_code == 400
    assert renamed.status_code == 200 and renamed.json()["gatewayPath"] == "/mcp/gateways/docs"
    gql_duplicate = await tenant.graphql(CREATE, {"input": {"name": "docs", "url": upstream.url}})
    assert gql_duplicate["errors"][0]["extensions"]["code"] == "CONFLICT"
    async with other_tenant.client() as c:
        assert (await c.get(f"/api/v1/mcp-servers/{server['id']}")).status_code == 404
    assert (await other_tenant.graphql(LIST))["data"]["mcpServers"]["edges"] == []
    async with tenant.client() as c:
        assert (await c.delete(f"/api/v1/mcp-servers/{server['id']}")).status_code == 200
    kinds = await Event.filter(organization_id=tenant.organization_id, type__startswith="mcp_server.").values_list(
        "type", flat=True)
    assert sorted(kinds) == ["mcp_server.created", "mcp_server.deleted", "mcp_server.updated"]


async def test_cancel_over_rest_and_graphql(tenant: Tenant) -> None:
    await policy(tenant, MANUAL)
    async with tenant.client() as c:
        ids = [(await c.post("/api/v1/actions", json={"type": "refund", "actor": {"kind": "agent"}})).json()["actionId"]
               for _ in range(2)]
        by_rest = await c.post(f"/api/v1/actions/{ids[0]}/cancel", json={"reason": "gone"})
        twice = await c.post(f"/actions/{ids[0]}/cancel", json={})
    by_graphql = await tenant.graphql(CANCEL, {"id": ids[1]})
    assert by_rest.status_code == 200 and by_rest.json()["status"] == "cancelled"
    assert twice.status_code == 409 and twice.json()["error"] == "CONFLICT"
    assert by_graphql["data"]["cancelAction"]["status"] == "cancelled"
    assert await Event.filter(type="action.cancelled").count() == 2
