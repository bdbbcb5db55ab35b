"""Governance over REST: document 001's bodies and curl examples, decisions, evidence, approvals."""

from __future__ import annotations

import asyncio

from models.events import Event
from models.governance import Action, ActionHistory, Approval, Policy
from tests.conftest import Tenant

EMAIL = {
    "type": "send_email",
    "actor": {"kind": "agent", "name": "marketing-bot", "provider": "openai"},
    "target": "user@example.com",
    "params": {"subject": "Welcome!", "body": "Thanks for signing up"},
}
EMAIL_POLICY = {
    "name": "Email Approval Required",
    "description": "All emails require human approval",
    "mode": "enforce",
    "rules": [{"when": {"actionType": "send_email"}, "require": ["content_review"]}],
    "status": "active",
}


async def test_document_examples_work_as_written(tenant: Tenant, client) -> None:
    headers = {"x-apaaikey": tenant.key, "Content-Type": "application/json"}
    free = await client.post("/actions", json=EMAIL, headers=headers)
    assert free.status_code == 201, free.text
    assert free.json()["status"] == "approved" and free.json()["decision"] == {"status": "approved", "checks": []}
    created = await client.post("/policy", json=EMAIL_POLICY, headers=headers)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["name"] == "Email Approval Required" and policy["version"] == 1
    proposed = (await client.post("/actions", json=EMAIL, headers=headers)).json()
    assert set(proposed) >= {"actionId", "status", "policyIds", "decision"}
    assert proposed["status"] == "pending_approval" and proposed["policyIds"] == [policy["id"]]
    assert proposed["decision"]["checks"] == [{"name": "content_review", "status": "pending", "note": None}]
    action_id = proposed["actionId"]
    evidence = {"checks": [{"name": "content_review", "pass": True, "note": "Content approved by reviewer"}]}
    ev = await client.post(f"/actions/{action_id}/evidence", json=evidence, headers=headers)
    assert ev.status_code == 200 and ev.json()["readyForApproval"] is True
    [pending] = (await client.get("/approvals/pending", headers=headers)).json()
    assert pending["actionId"] == action_id
    approved = await client.post(f"/approvals/{pending['id']}/approve", headers={"x-apaaikey": tenant.key})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    got = (await client.get(f"/actions/{action_id}", headers=headers)).json()
    assert got["status"] == "approved" and got["decidedBy"]
    listed = await client.get("/actions", params={"status": "approved", "limit": 50}, headers=headers)
    assert len(listed.json()) == 2
    other = (await client.post("/actions", json=EMAIL, headers=headers)).json()
    rejected = await client.post(
        f"/approvals/{other['approvalId']}/reject",
        headers=headers,
        content=b'{"reason": "Content violates guidelines"}',
    )
    assert rejected.status_code == 200 and rejected.json()["reason"] == "Content violates guidelines"
    assert (await client.get("/policy", headers=headers)).json()[0]["id"] == policy["id"]
    put = await client.put(f"/policy/{policy['id']}", json={"description": "x"}, headers=headers)
    assert put.json()["version"] == 2
    deleted = await client.delete(f"/policy/{policy['id']}", headers=headers)
    assert deleted.json()["status"] == "archived"
    after = (await client.post("/api/v1/actions", json=EMAIL, headers=headers)).json()
    assert after["status"] == "approved"
    events = await Event.filter(organization_id=tenant.organization_id).order_by("seq")
    assert [e.type for e in events] == [
        "action.approved",
        "action.pending_approval",
        "action.evidence_added",  # the check passed, the action still waits for a human
        "action.approved",
        "action.pending_approval",
        "action.rejected",
        "action.approved",
    ]
    data = events[1].data
    assert data["approvalUrl"] == f"https://gatehouse.test/console/approve/{action_id}"
    assert {"actionId", "type", "actor", "params", "timestamp"} <= set(data)


async def _policy(c, rules, mode="enforce") -> str:
    response = await c.post("/policy", json={"name": "p", "mode": mode, "rules": rules})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_auto_approval_failed_check_deny_observe_and_conditions(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await _policy(c, [{"when": {"actionType": "deploy"}, "require": ["tests"], "approval": "auto"}])
        await _policy(c, [{"when": {"actionType": "pay", "params.amount": {"gt": 1000}}, "require": ["cfo"]}])
        await _policy(c, [{"when": {"actionType": "delete_*", "target": "prod/*"}, "deny": True}])
        await _policy(c, [{"when": {"actionType": "read"}, "require": ["audit"]}], mode="observe")
        actor = {"kind": "agent"}
        auto = (await c.post("/actions", json={"type": "deploy", "actor": actor})).json()
        assert auto["status"] == "pending_approval"
        done = (
            await c.post("/evidence", json={"actionId": auto["actionId"], "checks": [{"name": "tests", "pass": True}]})
        ).json()
        assert done["status"] == "approved"
        failing = (await c.post("/actions", json={"type": "deploy", "actor": actor})).json()
        failed = await c.post(
            f"/actions/{failing['actionId']}/evidence", json={"checks": [{"name": "tests", "pass": False}]}
        )
        assert failed.json()["status"] == "rejected"
        again = await c.post(
            f"/actions/{failing['actionId']}/evidence", json={"checks": [{"name": "tests", "pass": True}]}
        )
        assert again.status_code == 409
        small = (await c.post("/actions", json={"type": "pay", "actor": actor, "params": {"amount": 10}})).json()
        big = (await c.post("/actions", json={"type": "pay", "actor": actor, "params": {"amount": 5000}})).json()
        assert small["status"] == "approved" and big["status"] == "pending_approval"
        denied = (await c.post("/actions", json={"type": "delete_db", "actor": actor, "target": "prod/main"})).json()
        spared = (await c.post("/actions", json={"type": "delete_db", "actor": actor, "target": "dev/main"})).json()
        assert denied["status"] == "rejected" and spared["status"] == "approved"
        observed = (await c.post("/actions", json={"type": "read", "actor": actor})).json()
        assert observed["status"] == "approved"
        assert observed["decision"]["checks"] == [{"name": "audit", "status": "observed", "note": None}]


async def test_manual_approval_waits_for_checks_and_decides_once(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await _policy(c, [{"when": {"actionType": "send_email"}, "require": ["content_review"]}])
        proposed = (await c.post("/actions", json=EMAIL)).json()
        early = await c.post(f"/approvals/{proposed['approvalId']}/approve")
        assert early.status_code == 409 and early.json()["error"] == "CONFLICT"
        assert (await Action.get(id=proposed["actionId"])).status == "pending_approval"
        await c.post(
            f"/actions/{proposed['actionId']}/evidence", json={"checks": [{"name": "content_review", "pass": True}]}
        )
        assert (await c.post(f"/approvals/{proposed['approvalId']}/approve")).status_code == 200
        twice = await c.post(f"/approvals/{proposed['approvalId']}/approve")
        assert twice.status_code == 409
        kinds = [h.kind for h in await ActionHistory.filter(action_id=proposed["actionId"]).order_by("created_at")]
        assert kinds == ["proposed", "evidence_added", "approved"]


async def test_pending_action_expires_exactly_once(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await _policy(c, [{"when": {"actionType": "t"}, "require": ["x"], "expiresIn": 1}])
        proposed = (await c.post("/actions", json={"type": "t", "actor": {"kind": "agent"}})).json()
        for _ in range(60):
            if (await Action.get(id=proposed["actionId"])).status == "expired":
                break
            await asyncio.sleep(0.1)
        assert (await Action.get(id=proposed["actionId"])).status == "expired"
        assert (await Approval.get(id=proposed["approvalId"])).status == "expired"
        rejected = await c.post(f"/approvals/{proposed['approvalId']}/reject", json={"reason": "late"})
        assert rejected.status_code == 409
        assert await Event.filter(type="action.expired").count() == 1


async def test_bad_input_is_4xx_and_changes_nothing(tenant: Tenant) -> None:
    async with tenant.client() as c:
        bad_actions = [
            b"{",
            b"[]",
            b'{"actor": {"kind": "agent"}}',
            b'{"type": "x", "actor": {}}',
            b'{"type": 5, "actor": {"kind": "agent"}}',
            b'{"type": "x", "actor": {"kind": "a"}, "params": []}',
        ]
        for body in bad_actions:
            response = await c.post("/actions", content=body, headers={"content-type": "application/json"})
            assert response.status_code == 400, (body, response.text)
            assert set(response.json()) == {"error", "message"}
        bad_rule = await c.post("/policy", json={"rules": [{"when": {"params.amount": {"gtx": 1}}}]})
        assert bad_rule.status_code == 400 and "rules[0].when.params" in bad_rule.json()["message"]
        assert await Action.all().count() == 0 and await Policy.all().count() == 0
        assert await Event.all().count() == 0


async def test_other_organization_gets_404(tenant: Tenant, other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy_id = await _policy(c, [{"when": {"actionType": "send_email"}, "require": ["r"]}])
        proposed = (await c.post("/actions", json=EMAIL)).json()
    async with other_tenant.client() as c:
        for path in (
            f"/actions/{proposed['actionId']}",
            f"/policy/{policy_id}",
            f"/approvals/{proposed['approvalId']}",
            f"/evidence/{proposed['actionId']}",
        ):
            assert (await c.get(path)).status_code == 404, path
        assert (await c.post(f"/approvals/{proposed['approvalId']}/reject", json={"reason": "x"})).status_code == 404
        assert (await c.post(f"/reject/{proposed['actionId']}", json={"reason": "x"})).status_code == 404
        assert (await c.put(f"/policy/{policy_id}", json={"name": "y"})).status_code == 404
        assert (await c.get("/approvals/pending")).json() == []
    assert (await Action.get(id=proposed["actionId"])).status == "pending_approval"


async def _snapshot(action_id: str) -> tuple[object, ...]:
    action = await Action.get(id=action_id)
    return (
        action.status,
        action.checks,
        action.decided_by,
        await ActionHistory.filter(action_id=action_id).count(),
        await Event.all().count(),
        (await Approval.get(action_id=action_id)).status,
    )


async def test_refused_evidence_and_decisions_change_nothing(tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy_id = await _policy(c, [{"when": {"actionType": "send_email"}, "require": ["content_review"]}])
        pending = (await c.post("/actions", json=EMAIL)).json()
        before = await _snapshot(pending["actionId"])
        refused = [
            await c.post(f"/actions/{pending['actionId']}/evidence", json={"checks": []}),
            await c.post(f"/actions/{pending['actionId']}/evidence", json={"checks": [{"name": "x", "pass": "yes"}]}),
            await c.post("/evidence", json={"checks": [{"name": "x", "pass": True}]}),
            await c.post(f"/approvals/{pending['approvalId']}/approve"),
            await c.post(f"/approvals/{pending['approvalId']}/reject", json={"reason": 5}),
            await c.post(f"/approve/{pending['actionId']}", json={"approver": ["x"]}),
        ]
        assert [r.status_code for r in refused] == [400, 400, 400, 409, 400, 400]
        assert all(set(r.json()) == {"error", "message"} for r in refused)
        assert await _snapshot(pending["actionId"]) == before
        bad_update = await c.put(f"/policy/{policy_id}", json={"rules": [{"when": {"actionType": 5}}]})
        assert bad_update.status_code == 400 and "rules[0].when.actionType" in bad_update.json()["message"]
        assert (await Policy.get(id=policy_id)).version == 1
        await c.post(f"/reject/{pending['actionId']}", json={"reason": "no"})
        decided = await _snapshot(pending["actionId"])
        late = await c.post(
            f"/actions/{pending['actionId']}/evidence", json={"checks": [{"name": "content_review", "pass": True}]}
        )
        assert late.status_code == 409 and await _snapshot(pending["actionId"]) == decided


async def test_simulation_decides_with_drafts_and_stores_nothing(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await _policy(c, [{"when": {"actionType": "send_*"}, "require": ["review"], "approval": "auto"}])
        plain = await c.post("/policy/simulate", json=EMAIL)
        assert plain.status_code == 200 and plain.json()["status"] == "pending_approval"
        assert plain.json()["decision"]["checks"] == [{"name": "review", "status": "pending", "note": None}]
        draft = {"rules": [{"when": {"target": "*@example.com"}, "deny": True}]}
        denied = await c.post("/api/v1/policy/simulate", json={**EMAIL, "policies": [draft]})
        assert denied.json()["status"] == "rejected"
        bad = await c.post("/policy/simulate", json={**EMAIL, "policies": [{"rules": [{"deny": "x"}]}]})
        assert bad.status_code == 400
    assert await Action.all().count() == 0 and await Policy.all().count() == 1 and await Event.all().count() == 0


async def test_nul_characters_are_refused_not_crashing(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await _policy(c, [{"when": {"actionType": "send_email"}, "require": ["r"]}])
        pending = (await c.post("/actions", json=EMAIL)).json()
        answers = [
            await c.post("/actions", json={**EMAIL, "type": "a\u0000b"}),
            await c.post("/actions", json={**EMAIL, "params": {"k\u0000": 1}}),
            await c.get("/actions/act_%00"),
            await c.get("/evidence/%00"),
            await c.get("/actions", params={"type": "a\u0000"}),
            await c.post(f"/reject/{pending['actionId']}", json={"reason": "x\u0000"}),
            await c.post(
                f"/actions/{pending['actionId']}/evidence", json={"checks": [{"name": "\u0000", "pass": True}]}
            ),
            await c.post("/policy", json={"rules": [{"when": {"actionType": "\u0000"}}]}),
        ]
        assert [r.status_code for r in answers] == [400, 400, 404, 404, 400, 400, 400, 400]
    assert await Action.all().count() == 1 and await Policy.all().count() == 1
