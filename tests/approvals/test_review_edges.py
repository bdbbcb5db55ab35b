"""Edges a probe found in reviews: an approval that sends the params back unchanged, an edit that
live consoles never heard of, and an escalation to a group deleted since its rule named it."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson

from models.api_keys import ApiKey
from models.events import Event
from models.governance import Action, ActionHistory
from tests.approvals.review_helpers import agent_and_reviewers, create_group, create_policy, propose, refused, snapshot
from tests.conftest import DATABASE_URL, Tenant
from tests.graphql.ws import gql_ws

QUORUM = [{"when": {"actionType": "refund"}, "approvals": 3, "approvers": ["leads"], "allowEdit": True}]
FOLLOW = "subscription($id: ID!) { actionUpdated(id: $id) { event action { id status params } } }"


async def next_change(ws: Any) -> dict[str, Any]:
    """The follower's next frame past the proposal's own `action.pending_approval`, which reaches it
    only when the relay had not sent it before the subscription began."""
    while (frame := (await ws.next_data(10))["payload"]["data"]["actionUpdated"])["event"] == "action.pending_approval":
        pass
    return dict(frame)


async def test_an_approval_that_sends_the_same_params_approves_without_editing(tenant: Tenant) -> None:
    agent, (alice, bob, carol) = await agent_and_reviewers(tenant)
    await create_group(tenant, "leads", [alice.id, bob.id, carol.id])
    await create_policy(tenant, QUORUM)
    proposed = await propose(agent, "refund", {"amount": 5, "note": {"b": 1, "a": True}})
    approval = proposed["approvalId"]
    async with alice.client() as c:
        assert (await c.post(f"/approvals/{approval}/approve")).status_code == 200
    async with bob.client() as c:  # the same params, keys in another order: an approval, not an edit
        same = await c.post(f"/approvals/{approval}/approve", json={"params": {"note": {"a": True, "b": 1},
                                                                               "amount": 5}})
    assert same.status_code == 200, same.text
    review = same.json()["action"]["review"]
    assert (review["approvalsReceived"], review["approvalsRemaining"]) == (2, 1)
    action = await Action.get(id=proposed["actionId"])
    assert action.original_params is None and action.params == {"amount": 5, "note": {"b": 1, "a": True}}
    async with carol.client() as c:  # `true` is not `1`: that is an edit, which drops the two before it
        edited = await c.post(f"/approvals/{approval}/approve", json={"params": {"amount": 5,
                                                                                 "note": {"a": 1, "b": 1}}})
    assert edited.json()["action"]["review"]["approvalsReceived"] == 1, edited.text
    assert (await Action.get(id=proposed["actionId"])).original_params is not None


async def test_each_approval_counted_is_an_event_live_consoles_hear(tenant: Tenant) -> None:
    """`action.approval_recorded`, with the params now in effect and the count: an edit under a quorum
    changed the params the other reviewers were looking at, and nothing was emitted until the decision."""
    agent, (alice, bob, _) = await agent_and_reviewers(tenant)
    await create_group(tenant, "leads", [alice.id, bob.id, agent.id])
    await create_policy(tenant, QUORUM)
    proposed = await propose(agent, "refund", {"amount": 100})
    action_id, approval = proposed["actionId"], proposed["approvalId"]
    async with gql_ws(tenant.base_url, tenant.key) as ws:
        await ws.subscribe("1", FOLLOW, {"id": action_id})
        await asyncio.sleep(0.2)
        async with alice.client() as c:
            assert (await c.post(f"/approvals/{approval}/approve", json={"params": {"amount": 999}})).status_code == 200
        heard = await next_change(ws)
    assert heard["event"] == "action.approval_recorded", heard
    assert heard["action"]["params"] == {"amount": 999} and heard["action"]["status"] == "pending_approval"
    event = await Event.get(organization_id=tenant.organization_id, type="action.approval_recorded")
    assert (event.data["approvalsReceived"], event.data["approvalsRemaining"], event.data["edited"]) == (1, 2, True)
    assert event.data["params"] == {"amount": 999} and event.data["originalParams"] == {"amount": 100}


async def test_an_escalation_to_a_group_deleted_since_expires_the_action(tenant: Tenant) -> None:
    """Nobody could decide it: the group's id was listed as the one approver key."""
    agent, (alice, _, _) = await agent_and_reviewers(tenant)
    group = await create_group(tenant, "temp", [alice.id])
    policy = await create_policy(tenant, [{"when": {"actionType": "escdel"}, "expiresIn": 1,
                                           "onExpire": "escalate", "escalateTo": "temp"}])
    proposed = await propose(agent, "escdel")
    async with tenant.client() as c:
        changed = await c.put(f"/policy/{policy['id']}", json={"name": "p", "rules": [
            {"when": {"actionType": "escdel"}, "expiresIn": 1}]})
        assert changed.status_code == 200, changed.text
        assert (await c.delete(f"/api/v1/reviewer-groups/{group['id']}")).status_code == 200
    for _ in range(100):
        action = await Action.get(id=proposed["actionId"])
        if action.status != "pending_approval":
            break
        await asyncio.sleep(0.1)
    assert action.status == "expired" and action.escalated_at is None
    closed = await ActionHistory.get(action_id=action.id, kind="expired")
    assert closed.detail == {"note": f"its escalateTo group {group['id']} no longer exists"}


APPROVE_SEEN = """mutation($id: ID!, $seen: JSON) { approveAction(approvalId: $id, expectedParams: $seen) {
  status action { status params review { approvalsReceived } } } }"""


async def test_an_approval_of_params_another_reviewer_has_since_edited_is_a_conflict(tenant: Tenant) -> None:
    """`expectedParams`, the params the reviewer was shown: an edit meanwhile makes the approval a 409
    with nothing counted, at both doors, instead of counting it for params its reviewer never saw."""
    agent, (alice, bob, carol) = await agent_and_reviewers(tenant)
    await create_group(tenant, "leads", [alice.id, bob.id, carol.id])
    await create_policy(tenant, QUORUM)
    proposed = await propose(agent, "refund", {"amount": 100})
    approval = proposed["approvalId"]
    async with alice.client() as c:  # alice edits: the others were shown {"amount": 100}
        assert (await c.post(f"/approvals/{approval}/approve", json={"params": {"amount": 999}})).status_code == 200
    before = await snapshot()
    async with bob.client() as c:
        refused(await c.post(f"/approvals/{approval}/approve", json={"expectedParams": {"amount": 100}}),
                409, "CONFLICT", "changed since they were shown")
        refused(await c.post(f"/actions/{proposed['actionId']}/approve", json={"expectedParams": {"amount": 100}}),
                409, "CONFLICT")
        refused(await c.post(f"/approvals/{approval}/approve", json={"expectedParams": "x"}), 400, "VALIDATION_ERROR")
    stale = await carol.graphql(APPROVE_SEEN, {"id": approval, "seen": {"amount": 100}})
    assert stale["errors"][0]["extensions"]["code"] == "CONFLICT", stale
    wrong_type = await carol.graphql(APPROVE_SEEN, {"id": approval, "seen": [1]})
    assert wrong_type["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", wrong_type
    assert await snapshot() == before
    async with bob.client() as c:  # what is there now, keys in any order: counted
        seen = await c.post(f"/approvals/{approval}/approve", json={"expectedParams": {"amount": 999}})
    assert seen.status_code == 200 and seen.json()["action"]["review"]["approvalsReceived"] == 2, seen.text
    decided = await carol.graphql(APPROVE_SEEN, {"id": approval, "seen": {"amount": 999}})
    assert decided["data"]["approveAction"]["status"] == "approved", decided
    assert decided["data"]["approveAction"]["action"]["params"] == {"amount": 999}


async def test_a_quorum_fewer_keys_can_reach_says_so(tenant: Tenant) -> None:
    """The proposer in the only group of two under `approvals: 2`: the one other member cannot make
    two approvals. `review.quorumReachable` says so in REST and GraphQL reads (it waits for its deadline).
    `decisionBarred` tells each key reading it why it may not decide, as approve would answer 403."""
    agent, (alice, bob, _carol) = await agent_and_reviewers(tenant)
    await create_group(tenant, "pair", [agent.id, alice.id])
    await create_policy(tenant, [{"when": {"actionType": "refund"}, "approvals": 2, "approvers": ["pair"]}])
    stuck = await propose(agent, "refund", {"amount": 1})
    async with tenant.client() as c:  # proposed by a key outside the group: both members may approve
        other = (await c.post("/actions", json={"type": "refund", "actor": {"kind": "agent"}})).json()
        reachable = (await c.get(f"/actions/{other['actionId']}")).json()
        read = (await c.get(f"/actions/{stuck['actionId']}")).json()
    assert (read["review"]["waitingFor"], read["review"]["quorumReachable"]) == ([alice.id], False), read["review"]
    assert reachable["review"]["quorumReachable"] is True, reachable
    query = "query($id: ID!) { action(id: $id) { review { quorumReachable approvalsRemaining waitingFor } } }"
    out = await tenant.graphql(query, {"id": stuck["actionId"]})
    assert out["data"]["action"]["review"] == {"quorumReachable": False, "approvalsRemaining": 2,
                                               "waitingFor": [alice.id]}, out
    barred = {}
    for name, key in (("agent", agent), ("alice", alice), ("bob", bob)):
        async with key.client() as c:
            barred[name] = (await c.get(f"/actions/{stuck['actionId']}")).json()["decisionBarred"]
    assert barred["alice"] is None, barred
    for name, key in (("agent", agent), ("alice", alice), ("bob", bob)):  # every REST read of it says the same
        async with key.client() as c:
            listed = {a["id"]: a["decisionBarred"] for a in (await c.get("/actions")).json()}
            pending = {p["actionId"]: p["action"]["decisionBarred"] for p in (await c.get("/approvals/pending")).json()}
            approval = (await c.get(f"/approvals/{stuck['approvalId']}")).json()["action"]["decisionBarred"]
        assert listed[stuck["actionId"]] == pending[stuck["actionId"]] == approval == barred[name], (name, listed)
    assert "proposed this action cannot decide it" in barred["agent"]
    assert f"key {bob.id} is not among the approvers" in barred["bob"]
    async with bob.client() as c:
        refused(await c.post(f"/approvals/{stuck['approvalId']}/approve"), 403, "FORBIDDEN", barred["bob"])
    seen = "query($id: ID!) { action(id: $id) { decisionBarred } }"
    assert (await alice.graphql(seen, {"id": stuck["actionId"]}))["data"]["action"]["decisionBarred"] is None
    as_agent = await agent.graphql(seen, {"id": stuck["actionId"]})
    assert as_agent["data"]["action"]["decisionBarred"] == barred["agent"], as_agent


async def test_a_key_revoked_while_an_action_waits_is_no_longer_waited_for(tenant: Tenant) -> None:
    """A revoked key can never decide again, so a waiting action drops it from `approvers` and
    `waitingFor`, and says when too few keys are left (revocation is refused only while a rule as it
    stands needs the key, so this shows once the rule changed). The approval it gave stays counted."""
    agent, (alice, bob, carol) = await agent_and_reviewers(tenant)
    await create_group(tenant, "leads", [alice.id, bob.id, carol.id])
    policy = await create_policy(tenant, [{"when": {"actionType": "refund"}, "approvals": 2, "approvers": ["leads"]}])
    waiting = await propose(agent, "refund", {"amount": 1})
    query = ("query($id: ID!) { action(id: $id) { review { approvers waitingFor quorumReachable approvalsReceived "
             "approvalsRemaining } } }")

    async def read() -> dict[str, Any]:
        async with tenant.client() as c:
            rest = (await c.get(f"/actions/{waiting['actionId']}")).json()["review"]
        graphql = (await tenant.graphql(query, {"id": waiting["actionId"]}))["data"]["action"]["review"]
        assert {k: rest[k] for k in graphql} == graphql, (rest, graphql)
        return graphql

    async with carol.client() as c:
        assert (await c.post(f"/approvals/{waiting['approvalId']}/approve")).status_code == 200
    async with tenant.client() as c:
        assert (await c.delete(f"/api/v1/api-keys/{carol.id}")).status_code == 200  # two left: the rule holds
    assert await read() == {"approvers": sorted([alice.id, bob.id]), "waitingFor": sorted([alice.id, bob.id]),
                            "quorumReachable": True, "approvalsReceived": 1, "approvalsRemaining": 1}
    async with tenant.client() as c:
        changed = await c.put(f"/policy/{policy['id']}", json={"rules": [{"when": {"actionType": "refund"},
                                                                          "approvers": ["leads"]}]})
        assert changed.status_code == 200, changed.text
        assert (await c.delete(f"/api/v1/api-keys/{bob.id}")).status_code == 200  # the rule now needs one
        assert (await c.delete(f"/api/v1/api-keys/{alice.id}")).status_code == 409  # and that one is alice
    assert await read() == {"approvers": [alice.id], "waitingFor": [alice.id], "quorumReachable": True,
                            "approvalsReceived": 1, "approvalsRemaining": 1}
    async with alice.client() as c:
        decided = await c.post(f"/approvals/{waiting['approvalId']}/approve")
    assert decided.json()["action"]["status"] == "approved", decided.text


async def test_a_quorum_left_short_by_a_revocation_says_so(tenant: Tenant) -> None:
    agent, (alice, bob, _carol) = await agent_and_reviewers(tenant)
    await create_group(tenant, "pair", [alice.id, bob.id])
    policy = await create_policy(tenant, [{"when": {"actionType": "refund"}, "approvals": 2, "approvers": ["pair"]}])
    waiting = await propose(agent, "refund", {"amount": 1})
    async with tenant.client() as c, gql_ws(tenant.base_url, tenant.key) as ws:
        assert (await c.put(f"/policy/{policy['id']}", json={"rules": [{"when": {"actionType": "other"},
                                                                        "approvers": ["pair"]}]})).status_code == 200
        await ws.subscribe("1", FOLLOW, {"id": waiting["actionId"]})
        await asyncio.sleep(0.2)
        assert (await c.delete(f"/api/v1/api-keys/{bob.id}")).status_code == 200
        heard = await next_change(ws)
        review = (await c.get(f"/actions/{waiting['actionId']}")).json()["review"]
    assert (review["approvers"], review["waitingFor"], review["quorumReachable"]) == ([alice.id], [alice.id], False)
    assert heard == {"event": "action.approvers_changed", "action": {"id": waiting["actionId"],
                                                                      "status": "pending_approval",
                                                                      "params": {"amount": 1}}}, heard
    event = await Event.get(organization_id=tenant.organization_id, type="action.approvers_changed")
    assert (event.data["actionId"], event.data["approvers"], event.data["waitingFor"], event.data["revokedKeyId"],
            event.data["quorumReachable"]) == (waiting["actionId"], [alice.id], [alice.id], bob.id, False), event.data
    history = (await tenant.graphql("query($id: ID!) { action(id: $id) { history { kind status by detail } } }",
                                    {"id": waiting["actionId"]}))["data"]["action"]["history"]
    admin = await ApiKey.get(organization_id=tenant.organization_id, name="admin")
    assert history[-1] == {"kind": "approvers_changed", "status": "pending_approval", "by": admin.id,
                           "detail": {"approvers": [alice.id], "revokedKeyId": bob.id, "waitingFor": [alice.id],
                                      "quorumReachable": False}}, history
    async with bob.client() as c:  # and it cannot decide: a revoked key is not a key
        assert (await c.post(f"/approvals/{waiting['approvalId']}/approve")).status_code == 401


async def test_a_revocation_waits_for_an_action_being_decided(tenant: Tenant) -> None:
    """The revocation reads waiting actions' reviews under their row locks: while another transaction
    changes one (here, as an escalation would, its eligible keys), it waits for it and drops the key
    from what that transaction wrote, instead of writing the older review over it."""
    agent, (alice, bob, carol) = await agent_and_reviewers(tenant)
    await create_group(tenant, "leads", [alice.id, bob.id, carol.id])
    await create_policy(tenant, [{"when": {"actionType": "refund"}, "approvals": 2, "approvers": ["leads"]}])
    waiting = await propose(agent, "refund", {"amount": 1})
    holder = await asyncpg.connect(DATABASE_URL)
    try:
        async with tenant.client() as c:
            async with holder.transaction():
                await holder.execute("UPDATE actions SET review = jsonb_set(review, '{eligible}', $2::jsonb) "
                                     "WHERE id = $1", waiting["actionId"], orjson.dumps([alice.id, carol.id]).decode())
                revoking = asyncio.create_task(c.delete(f"/api/v1/api-keys/{carol.id}"))
                await asyncio.sleep(0.5)
                assert not revoking.done()
            assert (await asyncio.wait_for(revoking, 10)).status_code == 200
            review = (await c.get(f"/actions/{waiting['actionId']}")).json()["review"]
    finally:
        await holder.close()
    assert review["approvers"] == [alice.id], review  # the other transaction's keys, less the revoked one
