"""What the gateway's tools/list answers a caller it refuses: the JSON-RPC error a client's own
mistake gets (invalid params), worded `CODE: message` as the README says, never an internal error."""

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
