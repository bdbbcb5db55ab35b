"""What a caller the MCP door refuses with a JSON-RPC error (the gateway's tools/list, a read of the
gatehouse://actions/{id} resource) gets: the error a client's own mistake gets (invalid params),
worded `CODE: message` as the README says, never an internal error."""

from __future__ import annotations

import pytest
from mcp import types as mcp_types
from mcp.shared.exceptions import MCPError

from tests.conftest import Tenant
from tests.mcp.conftest import Connect, Upstream
from tests.mcp.test_gateway import GATEWAY, register


async def refusal(connect: Connect, path: str, key: str) -> mcp_types.ErrorData:
    async with connect(path, key=key) as session:
        with pytest.raises(MCPError) as refused:
            await session.list_tools()
    return refused.value.error


async def test_a_key_without_the_scope_or_the_server_is_refused_as_invalid_params(
    tenant: Tenant, other_tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    await register(tenant, upstream.url)
    async with tenant.client() as c:
        reader = (await c.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["*:read"]})).json()["key"]
    forbidden = await refusal(connect, GATEWAY, reader)
    assert (forbidden.code, forbidden.message) == (
        mcp_types.INVALID_PARAMS, "FORBIDDEN: this API key lacks the 'actions:write' scope")
    for path, key in ((GATEWAY, other_tenant.key), ("/mcp/gateways/nope", tenant.key)):
        missing = await refusal(connect, path, key)
        name = path.rsplit("/", 1)[1]
        assert (missing.code, missing.message) == (
            mcp_types.INVALID_PARAMS, f"NOT_FOUND: MCP server {name!r} not found")
    assert upstream.calls == []


async def test_reading_an_action_resource_without_the_scope_is_invalid_params(
    tenant: Tenant, connect: Connect
) -> None:
    async with connect() as session:
        proposed = await session.call_tool("propose_action", {"type": "send_email"})
    uri = f"gatehouse://actions/{proposed.structured_content['action_id']}"  # type: ignore[index]
    async with tenant.client() as c:
        hooks = (await c.post("/api/v1/api-keys", json={"name": "hooks", "scopes": ["webhooks:write"]})).json()["key"]
        assert (await c.get(f"/actions/{proposed.structured_content['action_id']}",  # type: ignore[index]
                            headers={"Authorization": f"Bearer {hooks}"})).status_code == 403
    async with connect(key=hooks) as session:
        with pytest.raises(MCPError) as refused:
            await session.read_resource(uri)
        with pytest.raises(MCPError) as missing:
            await session.read_resource("gatehouse://actions/act_nothing")
    assert (refused.value.error.code, refused.value.error.message, refused.value.error.data) == (
        mcp_types.INVALID_PARAMS, "FORBIDDEN: this API key lacks the 'actions:read' scope", {"uri": uri})
    assert missing.value.error.code == mcp_types.INVALID_PARAMS  # the scope first, then the look-up
    assert missing.value.error.message.startswith("FORBIDDEN: ")
