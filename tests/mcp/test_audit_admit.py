"""Admitting an upstream's tool schemas is a change: one audit entry per admission, in both doors."""

from __future__ import annotations

from tests.audit.helpers import entries, verified
from tests.conftest import Tenant
from tests.mcp.conftest import Upstream

ADMIT = "mutation($id: ID!) { admitMcpServerTools(id: $id, tools: [\"read_file\"]) { id } }"


async def test_admitting_tools_is_recorded_once_per_door(tenant: Tenant, upstream: Upstream) -> None:
    async with tenant.client() as c:
        server = (await c.post("/api/v1/mcp-servers", json={"name": "files", "url": upstream.url})).json()
        admitted = await c.post(f"/api/v1/mcp-servers/{server['id']}/admit-tools", json={"tools": ["read_file"]})
        assert admitted.status_code == 200, admitted.text
        refused = await c.post(f"/api/v1/mcp-servers/{server['id']}/admit-tools", json={"tools": ["nope"]})
        assert refused.status_code == 400
    out = await tenant.graphql(ADMIT, {"id": server["id"]})
    assert "errors" not in out, out
    await verified(tenant)
    found = await entries(tenant, resource=server["id"])
    assert [e["type"] for e in found] == ["mcp_server.tools_admitted", "mcp_server.tools_admitted",
                                          "mcp_server.created"]
    assert set(found[0]["changes"]["after"]["tools"]) == {"read_file"}
