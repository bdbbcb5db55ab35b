"""Acceptance 1: the public `apaai` 0.2.1 SDK's agents namespace, unchanged, against the live server."""

from __future__ import annotations

import asyncio

import pytest
from apaai import AccountabilityLayer, AccountabilityLayerOptions

from models.agents import Agent
from models.events import Event
from tests.agents.helpers import bound_key
from tests.conftest import Tenant


def sdk_for(tenant: Tenant, key: str | None = None) -> AccountabilityLayer:
    return AccountabilityLayer(AccountabilityLayerOptions(endpoint=tenant.base_url, api_key=key or tenant.key))


async def test_register_list_get_update_delete_list_actions(tenant: Tenant) -> None:
    sdk = sdk_for(tenant)
    agent = await asyncio.to_thread(sdk.agents.register, {
        "name": "Marketing Bot", "description": "sends the newsletter",
        "config": {"webhookUrl": "https://example.com/hook"},
    })
    assert agent["id"].startswith("agt_") and agent["orgId"] == tenant.organization_id
    assert (agent["name"], agent["slug"], agent["status"]) == ("Marketing Bot", "marketing-bot", "active")
    assert agent["metrics"] == {"totalActions": 0, "approvedActions": 0, "blockedActions": 0, "pendingActions": 0}
    assert agent["config"] == {"webhookUrl": "https://example.com/hook"}
    assert agent["lastSeenAt"] is None and agent["createdAt"].endswith("Z") and agent["updatedAt"].endswith("Z")
    other = await asyncio.to_thread(sdk.agents.register, {"name": "support-bot"})

    listed = await asyncio.to_thread(sdk.agents.list)
    assert [a["id"] for a in listed] == [other["id"], agent["id"]]  # newest first
    assert [a["id"] for a in await asyncio.to_thread(sdk.agents.list, None, 1)] == [other["id"]]
    assert await asyncio.to_thread(sdk.agents.get, agent["id"]) == agent

    updated = await asyncio.to_thread(sdk.agents.update, agent["id"], {"description": "weekly", "status": "idle"})
    assert (updated["description"], updated["status"], updated["name"]) == ("weekly", "idle", "Marketing Bot")
    assert [a["id"] for a in await asyncio.to_thread(sdk.agents.list, "idle")] == [agent["id"]]

    key = await bound_key(tenant, agent["id"])
    proposed = await asyncio.to_thread(
        sdk_for(tenant, key).propose, type="send_email", actor={"kind": "agent", "name": "Marketing Bot"},
    )
    assert proposed["status"] == "approved"
    actions = await asyncio.to_thread(sdk.agents.list_actions, agent["id"])
    assert [a["actionId"] for a in actions] == [proposed["actionId"]]
    assert actions[0]["agentId"] == agent["id"] and actions[0]["actor"]["verified"] is True
    assert await asyncio.to_thread(sdk.agents.list_actions, agent["id"], "rejected") == []
    assert await asyncio.to_thread(sdk.agents.list_actions, other["id"]) == []
    got = await asyncio.to_thread(sdk.agents.get, agent["id"])
    assert got["metrics"]["totalActions"] == 1 and got["metrics"]["approvedActions"] == 1
    assert got["lastActionAt"] is not None

    deleted = await asyncio.to_thread(sdk.agents.delete, agent["id"])
    assert deleted["status"] == "disabled"
    assert (await Agent.get(id=agent["id"])).status == "disabled"  # kept, with its history
    assert len(await asyncio.to_thread(sdk.agents.list_actions, agent["id"])) == 1
    kinds = [e.type for e in await Event.filter(type__startswith="agent.").order_by("seq")]
    assert kinds == ["agent.registered", "agent.registered", "agent.updated", "agent.updated", "agent.disabled"]


async def test_sdk_errors_are_the_documented_body(tenant: Tenant, other_tenant: Tenant) -> None:
    sdk = sdk_for(tenant)
    theirs = await asyncio.to_thread(sdk_for(other_tenant).agents.register, {"name": "bot"})
    with pytest.raises(RuntimeError, match=r"404 .*NOT_FOUND"):
        await asyncio.to_thread(sdk.agents.get, theirs["id"])
    with pytest.raises(RuntimeError, match=r"404 .*NOT_FOUND"):
        await asyncio.to_thread(sdk.agents.list_actions, theirs["id"])
    mine = await asyncio.to_thread(sdk.agents.register, {"name": "bot"})  # names are per organization
    with pytest.raises(RuntimeError, match=r"409 .*CONFLICT"):
        await asyncio.to_thread(sdk.agents.register, {"name": "Bot"})
    with pytest.raises(RuntimeError, match=r"400 .*VALIDATION_ERROR"):
        await asyncio.to_thread(sdk.agents.update, mine["id"], {"status": "sleeping"})
    assert (await Agent.get(id=mine["id"])).status == "active"
