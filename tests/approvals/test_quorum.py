"""Quorum and separation of duties, through REST and GraphQL: two approvals needed, the same key
counted once, the proposer never counts, keys outside the approvers refused, one rejection rejects,
and reads show how many approvals are still needed and from whom. Rules without these keys keep
the single-key flow of document 001."""

from __future__ import annotations

from models.events import Event
from models.governance import Action, ActionHistory
from tests.approvals.review_helpers import (
    agent_and_reviewers,
    create_group,
    create_policy,
    make_key,
    propose,
    refused,
    snapshot,
)
from tests.conftest import Tenant

APPROVE = """mutation($id: ID!, $c: String) { approveAction(approvalId: $id, comment: $c) {
  status action { status review { approvalsRequired approvalsReceived approvalsRemaining waitingFor
  approvedBy { keyId comment } proposerMayApprove } } } }"""
REJECT = 'mutation($id: ID!, $r: String) { rejectAction(approvalId: $id, reason: $r) { status reason } }'


async def test_rest_quorum_of_two_from_a_group(tenant: Tenant) -> None:
    agent, (alice, bob, carol) = await agent_and_reviewers(tenant)
    group = await create_group(tenant, "leads", [agent.id, alice.id, bob.id])
    await create_policy(tenant, [{"when": {"actionType": "refund"}, "approvals": 2, "approvers": ["leads"]}])
    proposed = await propose(agent, "refund", {"amount": 500})
    action_id, approval_id = proposed["actionId"], proposed["approvalId"]
    assert proposed["status"] == "pending_approval"

    async with agent.client() as c:  # the proposer is in the group, yet never approves its own action
        before = await snapshot()
        refused(await c.post(f"/approvals/{approval_id}/approve"), 403, "FORBIDDEN", "proposed", "separation")
        assert await snapshot() == before
    async with carol.client() as c:  # not among the approvers
        refused(await c.post(f"/approvals/{approval_id}/approve"), 403, "FORBIDDEN", carol.id)
        assert await snapshot() == before
    async with alice.client() as c:
        first = await c.post(f"/approvals/{approval_id}/approve", json={"comment": "looks right"})
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "pending"
        review = first.json()["action"]["review"]
        assert (review["approvalsRequired"], review["approvalsReceived"], review["approvalsRemaining"]) == (2, 1, 1)
        assert review["waitingFor"] == [bob.id] and review["proposerMayApprove"] is False
        assert sorted(review["approvers"]) == sorted([agent.id, alice.id, bob.id])
        again = await c.post(f"/actions/{action_id}/approve", json={"comment": "twice"})  # counts once
        assert again.status_code == 200 and again.json()["action"]["review"]["approvalsReceived"] == 1
        pending = await c.get("/approvals/pending")
        assert pending.json()[0]["action"]["review"]["approvalsRemaining"] == 1
    assert (await Action.get(id=action_id)).status == "pending_approval"
    async with bob.client() as c:
        second = await c.post(f"/api/v1/approvals/{approval_id}/approve", json={"comment": "ok"})
        assert second.status_code == 200 and second.json()["status"] == "approved"
        assert second.json()["action"]["review"]["approvalsRemaining"] == 0
    history = await ActionHistory.filter(action_id=action_id).order_by("created_at", "id")
    assert [(h.kind, h.by) for h in history] == [
        ("proposed", agent.id), ("approval_recorded", alice.id), ("approved", bob.id)]
    assert history[1].detail["comment"] == "looks right" and history[2].detail["comment"] == "ok"
    events = await Event.filter(organization_id=tenant.organization_id).order_by("seq")
    assert [e.type for e in events if e.data.get("actionId") == action_id] == [  # alice's second approval: none
        "action.pending_approval", "action.approval_recorded", "action.approved"]
    assert group["id"]


async def test_graphql_quorum_same_key_once_and_one_rejection_rejects(tenant: Tenant) -> None:
    agent, (alice, bob, carol) = await agent_and_reviewers(tenant)
    await create_policy(tenant, [{"when": {"actionType": "wire"}, "approvals": 2,
                                  "approvers": [alice.id, bob.id, carol.id]}])
    approved_id = (await propose(agent, "wire"))["approvalId"]
    first = await alice.graphql(APPROVE, {"id": approved_id, "c": "one"})
    assert "errors" not in first, first
    state = first["data"]["approveAction"]
    assert state["status"] == "pending" and state["action"]["review"]["approvalsRemaining"] == 1
    assert state["action"]["review"]["approvedBy"] == [{"keyId": alice.id, "comment": "one"}]
    assert sorted(state["action"]["review"]["waitingFor"]) == sorted([bob.id, carol.id])
    twice = await alice.graphql(APPROVE, {"id": approved_id})
    assert twice["data"]["approveAction"]["action"]["review"]["approvalsReceived"] == 1
    own = await agent.graphql(APPROVE, {"id": approved_id})
    assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN" and "proposed" in own["errors"][0]["message"]
    pending = await alice.graphql("{ pendingApprovals { edges { node { id action { review { approvalsRemaining "
                                  "waitingFor } } } } } }")
    node = pending["data"]["pendingApprovals"]["edges"][0]["node"]
    assert node["id"] == approved_id and node["action"]["review"]["approvalsRemaining"] == 1
    done = await carol.graphql(APPROVE, {"id": approved_id})
    assert done["data"]["approveAction"]["status"] == "approved"

    rejected_id = (await propose(agent, "wire"))["approvalId"]
    await alice.graphql(APPROVE, {"id": rejected_id})
    no = await bob.graphql(REJECT, {"id": rejected_id, "r": "wrong account"})
    assert no["data"]["rejectAction"] == {"status": "rejected", "reason": "wrong account"}
    late = await carol.graphql(APPROVE, {"id": rejected_id})
    assert late["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_quorum_without_approvers_excludes_only_the_proposer(tenant: Tenant) -> None:
    agent, (alice, bob, _carol) = await agent_and_reviewers(tenant)
    await create_policy(tenant, [{"when": {"actionType": "deploy"}, "approvals": 2}])
    proposed = await propose(agent, "deploy")
    async with agent.client() as c:
        refused(await c.post(f"/actions/{proposed['actionId']}/approve"), 403, "FORBIDDEN", "proposed")
    async with alice.client() as c:
        first = (await c.post(f"/actions/{proposed['actionId']}/approve")).json()
        assert first["action"]["review"]["approvers"] is None and first["action"]["review"]["waitingFor"] is None
    async with bob.client() as c:
        assert (await c.post(f"/actions/{proposed['actionId']}/approve")).json()["status"] == "approved"


async def test_rules_without_quorum_keep_the_single_key_flow(tenant: Tenant) -> None:
    """Document 001: one key proposes, submits evidence and approves its own action."""
    await create_policy(tenant, [{"when": {"actionType": "send_email"}, "require": ["review"]}])
    async with tenant.client() as c:
        proposed = (await c.post("/actions", json={"type": "send_email", "actor": {"kind": "agent"}})).json()
        assert proposed["status"] == "pending_approval"
        evidence = await c.post(f"/actions/{proposed['actionId']}/evidence",
                                json={"checks": [{"name": "review", "pass": True}]})
        assert evidence.status_code == 200, evidence.text
        approved = await c.post(f"/approvals/{proposed['approvalId']}/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        read = (await c.get(f"/actions/{proposed['actionId']}")).json()
        assert read["review"] is None and read["decision"] == {"status": "approved", "checks": [
            {"name": "review", "status": "passed", "note": None}]}
    other = await make_key(tenant, "other", ["approvals:write"])
    assert other.id


async def test_approve_and_reject_by_action_id_behave_as_by_approval_id(tenant: Tenant) -> None:
    await create_policy(tenant, [{"when": {"actionType": "post"}}])
    async with tenant.client() as c:
        one = (await c.post("/actions", json={"type": "post", "actor": {"kind": "agent"}})).json()
        two = (await c.post("/actions", json={"type": "post", "actor": {"kind": "agent"}})).json()
        by_action = await c.post(f"/api/v1/actions/{one['actionId']}/approve", json={"comment": "fine"})
        by_approval = await c.post(f"/approvals/{two['approvalId']}/approve", json={"comment": "fine"})
        assert by_action.status_code == by_approval.status_code == 200
        shape = {k for k in by_action.json()}
        assert shape == set(by_approval.json()) and by_action.json()["comment"] == "fine"
        three = (await c.post("/actions", json={"type": "post", "actor": {"kind": "agent"}})).json()
        rejected = await c.post(f"/actions/{three['actionId']}/reject", json={"reason": "spam"})
        assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
        refused(await c.post(f"/actions/{three['actionId']}/approve"), 409, "CONFLICT")
        refused(await c.post("/actions/act_nope/approve"), 404, "NOT_FOUND")
