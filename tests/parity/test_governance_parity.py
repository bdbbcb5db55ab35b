"""One governance scenario set, run over REST and over GraphQL: both doors give the same answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from models.governance import Action, ActionHistory
from tests.conftest import Tenant
from tests.parity.doors import Door as BaseDoor

ACTION_FIELDS = "id status policyIds approvalId reason decision { status checks { name status note } }"


class Door(BaseDoor):
    """The few governance operations a scenario needs, answered as plain dicts."""

    async def policy(self, mode: str, rules: list[Any], status: str = "active") -> str:
        body = {"name": "p", "mode": mode, "rules": rules, "status": status}
        if self.kind == "rest":
            return str((await self._rest("POST", "/policy", body))["id"])
        q = "mutation($i: CreatePolicyInput!) { createPolicy(input: $i) { id } }"
        return str((await self._gql(q, {"i": body}))["id"])

    async def propose(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.kind == "rest":
            out = await self._rest("POST", "/actions", body)
            return {"id": out["actionId"], **{k: out[k] for k in ("status", "policyIds", "approvalId", "decision")}}
        q = f"mutation($i: ProposeActionInput!) {{ proposeAction(input: $i) {{ action {{ {ACTION_FIELDS} }} }} }}"
        out = (await self._gql(q, {"i": body}))["action"]
        return {k: out[k] for k in ("id", "status", "policyIds", "approvalId", "decision")}

    async def evidence(self, action_id: str, checks: list[dict[str, Any]]) -> str:
        if self.kind == "rest":
            out = await self._rest("POST", f"/actions/{action_id}/evidence", {"checks": checks})
            return str(out.get("status") or out["error"])
        q = "mutation($a: ID!, $c: [CheckInput!]!) { submitEvidence(actionId: $a, checks: $c) { action { status } } }"
        out = await self._gql(q, {"a": action_id, "c": checks})
        return str(out["action"]["status"] if "action" in out else out["error"])

    async def decide(self, approval_id: str, verdict: str, reason: str | None = None) -> str:
        if self.kind == "rest":
            out = await self._rest("POST", f"/approvals/{approval_id}/{verdict}", {"reason": reason} if reason else {})
            return str(out.get("status") or out["error"])
        name = "approveAction" if verdict == "approve" else "rejectAction"
        arg = "reason: $r" if verdict == "reject" else "comment: $r"
        q = f"mutation($a: ID!, $r: String) {{ {name}(approvalId: $a, {arg}) {{ status }} }}"
        out = await self._gql(q, {"a": approval_id, "r": reason})
        return str(out.get("status") or out["error"])


AGENT = {"kind": "agent", "name": "bot"}


@pytest.fixture(params=["rest", "graphql"])
def door(request: pytest.FixtureRequest, tenant: Tenant) -> Door:
    return Door(tenant, request.param)


async def test_no_policy_observe_and_archived(door: Door) -> None:
    assert (await door.propose({"type": "send_email", "actor": AGENT}))["status"] == "approved"
    await door.policy("observe", [{"when": {"actionType": "send_email"}, "require": ["review"]}])
    await door.policy("enforce", [{"when": {"actionType": "send_email"}, "deny": True}], status="archived")
    observed = await door.propose({"type": "send_email", "actor": AGENT})
    assert observed["status"] == "approved"
    assert observed["decision"]["checks"] == [{"name": "review", "status": "observed", "note": None}]


async def test_auto_approval_and_failed_check(door: Door) -> None:
    await door.policy("enforce", [{"when": {"actionType": "deploy"}, "require": ["tests"], "approval": "auto"}])
    first = await door.propose({"type": "deploy", "actor": AGENT})
    assert first["status"] == "pending_approval"
    assert await door.evidence(first["id"], [{"name": "tests", "pass": True}]) == "approved"
    second = await door.propose({"type": "deploy", "actor": AGENT})
    assert await door.evidence(second["id"], [{"name": "tests", "pass": False, "note": "red"}]) == "rejected"
    assert await door.evidence(second["id"], [{"name": "tests", "pass": True}]) == "CONFLICT"


async def test_manual_approval_reject_and_deny(door: Door) -> None:
    await door.policy("enforce", [{"when": {"actionType": "pay"}, "require": ["cfo"]}])
    await door.policy("enforce", [{"when": {"actionType": "drop_*", "target": "prod/*"}, "deny": True}])
    paid = await door.propose({"type": "pay", "actor": AGENT})
    assert await door.decide(paid["approvalId"], "approve") == "CONFLICT"
    assert await door.evidence(paid["id"], [{"name": "cfo", "pass": True}]) == "pending_approval"
    assert await door.decide(paid["approvalId"], "approve") == "approved"
    assert await door.decide(paid["approvalId"], "approve") == "CONFLICT"
    other = await door.propose({"type": "pay", "actor": AGENT})
    assert await door.decide(other["approvalId"], "reject", "too much") == "rejected"
    assert (await Action.get(id=other["id"])).reason == "too much"
    assert (await door.propose({"type": "drop_table", "actor": AGENT, "target": "prod/db"}))["status"] == "rejected"
    assert (await door.propose({"type": "drop_table", "actor": AGENT, "target": "dev/db"}))["status"] == "approved"
    assert (await door.propose({"type": "dropped", "actor": AGENT, "target": "prod/db"}))["status"] == "approved"


async def test_params_conditions_and_expiry(door: Door) -> None:
    rule = {"when": {"actionType": "pay", "params.amount": {"gt": 1000}}, "require": ["cfo"], "expiresIn": 1}
    await door.policy("enforce", [rule])
    assert (await door.propose({"type": "pay", "actor": AGENT, "params": {"amount": 10}}))["status"] == "approved"
    big = await door.propose({"type": "pay", "actor": AGENT, "params": {"amount": 5000}})
    assert big["status"] == "pending_approval"
    for _ in range(60):
        if (await Action.get(id=big["id"])).status == "expired":
            break
        await asyncio.sleep(0.1)
    assert (await Action.get(id=big["id"])).status == "expired"
    assert await door.decide(big["approvalId"], "reject", "late") == "CONFLICT"


async def test_same_proposal_stores_identical_rows_over_both_doors(tenant: Tenant) -> None:
    await Door(tenant, "rest").policy("enforce", [{"when": {"actionType": "send_*"}, "require": ["review"]}])
    body = {
        "type": "send_email",
        "actor": {"kind": "agent", "name": "bot", "provider": "openai"},
        "target": "a@b.c",
        "params": {"n": 1, "deep": {"x": [1, 2]}},
        "agentId": "ag",
        "timestamp": "t",
    }
    via_rest = await Door(tenant, "rest").propose(body)
    via_gql = await Door(tenant, "graphql").propose(body)
    volatile = {"id", "created_at", "expires_at", "request_hash"}

    def row(action: Action) -> dict[str, Any]:
        return {k: v for k, v in action.__dict__.items() if not k.startswith("_") and k not in volatile}

    a, b = await Action.get(id=via_rest["id"]), await Action.get(id=via_gql["id"])
    assert row(a) == row(b) and a.request_hash == b.request_hash
    assert via_rest | {"id": "", "approvalId": ""} == via_gql | {"id": "", "approvalId": ""}
    history = [await ActionHistory.filter(action_id=x.id).values("kind", "status", "by", "detail") for x in (a, b)]
    assert history[0] == history[1]
