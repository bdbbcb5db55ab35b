"""The public `apaai` SDK (document 001's Python client) against the live server."""

from __future__ import annotations

import asyncio

from apaai import AccountabilityLayer, AccountabilityLayerOptions

from models.governance import Action
from tests.conftest import Tenant


async def test_sdk_propose_evidence_get_list_approve_reject(tenant: Tenant) -> None:
    sdk = AccountabilityLayer(AccountabilityLayerOptions(endpoint=tenant.base_url, api_key=tenant.key))
    policy = await asyncio.to_thread(
        sdk.setPolicy, {"rules": [{"when": {"actionType": "send_email"}, "require": ["review"], "mode": "enforce"}]}
    )
    assert policy["name"] and policy["rules"][0]["mode"] == "enforce"
    assert (await asyncio.to_thread(sdk.policy, "send_email"))[0]["id"] == policy["id"]
    assert await asyncio.to_thread(sdk.policy, "other") == []
    first = await asyncio.to_thread(
        sdk.propose,
        type="send_email",
        actor={"kind": "agent", "name": "bot"},
        target="a@example.com",
        agent_id="agent-7",
    )
    assert first["status"] == "pending_approval"
    await asyncio.to_thread(sdk.evidence, first["actionId"], [{"name": "review", "pass_": True, "note": "ok"}])
    evidence = await asyncio.to_thread(sdk.getEvidence, first["actionId"])
    assert evidence["checks"][0]["pass"] is True
    approved = await asyncio.to_thread(sdk.approveAction, first["actionId"], "alice")
    assert approved["status"] == "approved" and approved["approver"] == "alice"
    second = await asyncio.to_thread(sdk.propose, type="send_email", actor={"kind": "agent", "name": "bot"})
    rejected = await asyncio.to_thread(sdk.rejectAction, second["actionId"], "no")
    assert rejected["status"] == "rejected" and rejected["reason"] == "no"
    got = await asyncio.to_thread(sdk.getAction, first["actionId"])
    assert got["status"] == "approved" and got["agentId"] == "agent-7" and got["clientId"]
    listed = await asyncio.to_thread(sdk.listActions, {"status": "rejected"})
    assert [a["actionId"] for a in listed] == [second["actionId"]]
    assert await Action.filter(organization_id=tenant.organization_id).count() == 2
