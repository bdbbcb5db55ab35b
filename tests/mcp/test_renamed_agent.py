"""A key bound to an agent keeps working over MCP when its agent is renamed: the proposal and the
gateway's offer both see the agent's current name (resolvers/mcp/identity.py)."""

from __future__ import annotations

from models.governance import Action
from tests.agents.helpers import bound_key
from tests.agents.helpers import register as register_agent
from tests.conftest import Tenant
from tests.mcp.conftest import Connect, Upstream
from tests.mcp.test_gateway import GATEWAY, register
from tests.mcp.test_native import call, policy


async def rename(tenant: Tenant, agent_id: str, name: str) -> None:
    async with tenant.client() as c:
        assert (await c.patch(f"/api/v1/agents/{agent_id}", json={"name": name})).status_code == 200


async def test_a_renamed_agents_key_proposes_as_its_new_name_at_once(tenant: Tenant, connect: Connect) -> None:
    agent = await register_agent(tenant, "scout")
    key = await bound_key(tenant, agent["id"])
    async with connect(key=key) as session:
        before = await call(session, "propose_action", type="send_email", idempotency_key="k-1")
        await rename(tenant, agent["id"], "ranger")
        after = await call(session, "propose_action", type="send_email")
        retried = await call(session, "propose_action", type="send_email", idempotency_key="k-1")
    assert after["status"] == "approved"
    row = await Action.get(id=after["action_id"])
    assert (row.actor_name, row.agent_id, row.actor_verified) == ("ranger", agent["id"], True)
    assert retried["action_id"] == before["action_id"]  # the same request, whatever the agent is called now


async def test_the_gateway_offers_and_forwards_by_the_agents_current_name(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    agent = await register_agent(tenant, "scout")
    key = await bound_key(tenant, agent["id"])
    await register(tenant, upstream.url)
    await policy(tenant, {"name": "rangers read", "rules": [
        {"when": {"actionType": "mcp.files.read_file", "actor": {"name": "ranger"}}, "approval": "auto"}]})
    async with connect(GATEWAY, key=key) as session:
        assert (await session.list_tools()).tools == []  # the rule names another agent
        await rename(tenant, agent["id"], "ranger")
        offered = {t.name for t in (await session.list_tools()).tools}
        answer = await session.call_tool("read_file", {"path": "/a"})
    assert offered == {"read_file"}
    assert not answer.is_error and answer.content[0].text == "contents of /a", answer  # type: ignore[union-attr]
    assert upstream.calls == [("read_file", {"path": "/a"})]
