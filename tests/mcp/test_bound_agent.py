"""A key bound to an agent over MCP: its proposals and the gateway's offer see the agent as the
proposal resolver does, by its current name and id, verified (resolvers/mcp/identity.py)."""

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


async def test_the_gateway_offers_a_bound_agent_what_its_proposals_would_get(
    tenant: Tenant, upstream: Upstream, connect: Connect
) -> None:
    """Rules on `agentId` and `actor.verified` (refusing self-declared actors, as the rules document
    suggests) judge the gateway's offer as they judge the proposal: a bound key is its agent, verified."""
    agent = await register_agent(tenant, "scout")
    key = await bound_key(tenant, agent["id"])
    await register(tenant, upstream.url)
    await policy(tenant, {"name": "verified only", "rules": [
        {"when": {"actor": {"verified": False}}, "deny": True},
        {"when": {"actionType": "mcp.files.read_file"}, "approval": "auto"},
        {"when": {"actionType": "mcp.files.send_email", "agentId": agent["id"]}, "approval": "auto"}]})
    async with connect(key=key) as native:  # the same proposal at the native door: approved
        direct = await call(native, "propose_action", type="mcp.files.read_file", target="files",
                            params={"path": "/a"})
    assert direct["status"] == "approved"
    async with connect(GATEWAY, key=key) as session:
        offered = {t.name for t in (await session.list_tools()).tools}
        read = await session.call_tool("read_file", {"path": "/a"})
        sent = await session.call_tool("send_email", {"to": "a@b.c", "body": "hi"})
    assert offered == {"read_file", "send_email"}
    assert not read.is_error and read.content[0].text == "contents of /a", read  # type: ignore[union-attr]
    assert not sent.is_error and sent.content[0].text == "sent to a@b.c", sent  # type: ignore[union-attr]
    async with connect(GATEWAY) as unbound:  # the admin key is self-declared: refused outright
        assert (await unbound.list_tools()).tools == []
