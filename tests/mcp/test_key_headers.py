"""An API key sent as `x-api-key` or `x-apaaikey` is taken on the MCP paths as it is as a Bearer token
(DESIGN.md: every route and path), by the SDK's own client: the same caller, the same scopes; a wrong
key is refused as before, and a Bearer token wins over the other headers as it does on REST."""

from __future__ import annotations

import httpx
import pytest

from models.governance import Action
from tests.agents.helpers import bound_key
from tests.agents.helpers import register as register_agent
from tests.conftest import Tenant
from tests.mcp.conftest import Connect, Upstream
from tests.mcp.test_gateway import GATEWAY, RULES, register
from tests.mcp.test_native import call, policy

ACCEPT = {"Accept": "application/json, text/event-stream"}
PING = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "propose_action", "arguments": {"type": "refund"}}}


@pytest.mark.parametrize("header", ["x-api-key", "x-apaaikey"])
async def test_a_key_in_either_other_header_is_the_caller_bearer_would_be(
    tenant: Tenant, upstream: Upstream, connect: Connect, header: str
) -> None:
    await register(tenant, upstream.url)
    await policy(tenant, RULES)
    agent = await register_agent(tenant, "scout")
    key = await bound_key(tenant, agent["id"])
    async with connect(key=None, headers={header: key}) as session:
        proposed = await call(session, "propose_action", type="send_email")
        described = await call(session, "describe_policies")
    row = await Action.get(id=proposed["action_id"])
    assert (row.actor_name, row.agent_id, row.actor_verified) == ("scout", agent["id"], True)
    assert {r["policy_name"] for r in described["rules"]} == {"files"}
    async with connect(GATEWAY, key=None, headers={header: key}) as session:
        offered = {tool.name for tool in (await session.list_tools()).tools}
        answer = await session.call_tool("read_file", {"path": "/a"})
    assert offered == {"read_file", "send_email"}
    assert answer.content[0].text == "contents of /a"  # type: ignore[union-attr]
    assert upstream.count("read_file") == 1
    async with tenant.client() as c:  # the same scopes: a reader may not propose, by either header
        reader = (await c.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["*:read"]})).json()["key"]
    async with connect(key=None, headers={header: reader}) as session:
        refused = await session.call_tool("propose_action", {"type": "send_email"})
    assert refused.is_error
    assert refused.content[0].text.endswith(  # type: ignore[union-attr]
        "FORBIDDEN: this API key lacks the 'actions:write' scope")


@pytest.mark.parametrize("path", ["/mcp", GATEWAY])
async def test_a_wrong_key_is_still_refused_and_bearer_comes_first(
    tenant: Tenant, upstream: Upstream, server: str, path: str
) -> None:
    await register(tenant, upstream.url)
    cases = {  # headers -> whether REST and MCP take them
        "wrong x-api-key": ({"x-api-key": "sk_wrong"}, False),
        "wrong x-apaaikey": ({"x-apaaikey": "sk_wrong"}, False),
        "wrong Bearer, right x-api-key": ({"Authorization": "Bearer sk_wrong", "x-api-key": tenant.key}, False),
        "right Bearer, wrong x-api-key": ({"Authorization": f"Bearer {tenant.key}", "x-api-key": "sk_wrong"}, True),
        "not Bearer, right x-api-key": ({"Authorization": "Basic Zm9vOmJhcg==", "x-api-key": tenant.key}, True),
    }
    async with httpx.AsyncClient(base_url=server, timeout=10) as c:
        for case, (headers, taken) in cases.items():
            rest = await c.get("/actions", headers=headers)
            mcp = await c.post(path, json=PING, headers={**ACCEPT, **headers})
            assert rest.status_code == (200 if taken else 401), (case, rest.text)
            assert mcp.status_code == (200 if taken else 401), (case, mcp.text)
            if not taken:
                assert mcp.json()["error"] == "UNAUTHORIZED", (case, mcp.text)
    proposals = 2 if path == "/mcp" else 0
    assert await Action.filter(organization_id=tenant.organization_id).count() == proposals
