"""Single-use grants over REST and GraphQL: once 200, then 409; other params 409; 20 racing consumes."""

from __future__ import annotations

import asyncio
import hashlib

import orjson

from models.events import Event
from models.governance import Action, ActionHistory
from tests.approvals.helpers import EMAIL, MANUAL_RULE, approve, make_policy, propose
from tests.conftest import Tenant

CONSUME = """mutation($id: ID!, $params: JSON) { consumeGrant(actionId: $id, params: $params) {
  id status grant { status hash consumedAt consumedBy } } }"""
ACTION = "query($id: ID!) { action(id: $id) { status grant { status hash } } }"


def expected_hash(organization_id: str) -> str:
    body = {"organizationId": organization_id, "type": EMAIL["type"], "target": EMAIL["target"],
            "params": EMAIL["params"]}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def test_consume_once_then_conflict_and_other_params_conflict(tenant: Tenant) -> None:
    async with tenant.client() as c:
        free = await propose(c)  # no policy yet: approved at once, with an active grant
        got = (await c.get(f"/api/v1/actions/{free['actionId']}")).json()
        assert got["grant"] == {"status": "active", "hash": expected_hash(tenant.organization_id),
                                "consumedAt": None, "consumedBy": None}
        other = await c.post(f"/actions/{free['actionId']}/consume", json={"params": {**EMAIL["params"], "amount": 41}})
        assert other.status_code == 409 and other.json()["error"] == "CONFLICT", other.text
        # key order does not matter: the hash is over canonical JSON
        reordered = dict(reversed(list(EMAIL["params"].items())))
        first = await c.post(f"/actions/{free['actionId']}/consume", json={"params": reordered})
        assert first.status_code == 200, first.text
        assert first.json()["grant"]["status"] == "consumed" and first.json()["grant"]["consumedBy"]
        again = await c.post(f"/api/v1/actions/{free['actionId']}/consume", json={"params": EMAIL["params"]})
        assert again.status_code == 409 and "already used" in again.json()["message"]
    kinds = await ActionHistory.filter(action_id=free["actionId"]).values_list("kind", flat=True)
    assert list(kinds).count("grant_consumed") == 1
    [event] = await Event.filter(type="action.grant_consumed")
    assert event.data["actionId"] == free["actionId"] and event.data["grant"]["status"] == "consumed"


async def test_pending_and_rejected_actions_carry_no_grant(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await make_policy(c)
        pending = await propose(c)
        refused = await c.post(f"/actions/{pending['actionId']}/consume", json={"params": EMAIL["params"]})
        assert refused.status_code == 409 and "not approved" in refused.json()["message"]
        assert (await c.get(f"/actions/{pending['actionId']}")).json()["grant"]["status"] == "none"
        await approve(c, pending["actionId"])
        used = await c.post(f"/actions/{pending['actionId']}/consume", json={"params": EMAIL["params"]})
        assert used.status_code == 200


async def test_bad_input_is_400_and_changes_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        action = await propose(c)
        url = f"/api/v1/actions/{action['actionId']}/consume"
        for body in ({"params": "x"}, {"params": {}, "extra": 1}, [1]):
            bad = await c.post(url, json=body)
            assert bad.status_code == 400 and set(bad.json()) == {"error", "message"}, bad.text
        assert (await c.post(url, content=b"{not json")).status_code == 400
        assert (await c.post("/api/v1/actions/act_nope/consume", json={"params": {}})).status_code == 404
    async with other_tenant.client() as c:
        assert (await c.post(url, json={"params": EMAIL["params"]})).status_code == 404
    row = await Action.get(id=action["actionId"])
    assert row.grant_consumed_at is None


async def test_twenty_concurrent_consumes_give_exactly_one_200(tenant: Tenant) -> None:
    async with tenant.client() as c:
        action = await propose(c)
        url = f"/api/v1/actions/{action['actionId']}/consume"
        answers = await asyncio.gather(*(c.post(url, json={"params": EMAIL["params"]}) for _ in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 19, statuses
    assert await ActionHistory.filter(action_id=action["actionId"], kind="grant_consumed").count() == 1
    assert await Event.filter(type="action.grant_consumed").count() == 1


async def test_graphql_consume_grant_and_grant_field(tenant: Tenant) -> None:
    async with tenant.client() as c:
        action = await propose(c)
    before = await tenant.graphql(ACTION, {"id": action["actionId"]})
    assert before["data"]["action"]["grant"] == {"status": "active", "hash": expected_hash(tenant.organization_id)}
    wrong = await tenant.graphql(CONSUME, {"id": action["actionId"], "params": {"amount": 1}})
    assert wrong["errors"][0]["extensions"]["code"] == "CONFLICT"
    used = await tenant.graphql(CONSUME, {"id": action["actionId"], "params": EMAIL["params"]})
    assert used["data"]["consumeGrant"]["grant"]["status"] == "consumed", used
    twice = await tenant.graphql(CONSUME, {"id": action["actionId"], "params": EMAIL["params"]})
    assert twice["errors"][0]["extensions"]["code"] == "CONFLICT"
    bad = await tenant.graphql(CONSUME, {"id": action["actionId"], "params": [1, 2]})
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


async def test_an_edited_approval_grants_the_edited_params_only(tenant: Tenant) -> None:
    """The grant covers what was approved: after edit-then-approve, the edited params, not the asked ones."""
    async with tenant.client() as c:
        await make_policy(c, rules=[{**MANUAL_RULE, "allowEdit": True}])
        proposed = await propose(c)
        edited = {**EMAIL["params"], "amount": 10}
        approved = await c.post(f"/actions/{proposed['actionId']}/approve", json={"params": edited})
        assert approved.status_code == 200, approved.text
        asked = await c.post(f"/actions/{proposed['actionId']}/consume", json={"params": EMAIL["params"]})
        used = await c.post(f"/actions/{proposed['actionId']}/consume", json={"params": edited})
    assert asked.status_code == 409 and asked.json()["error"] == "CONFLICT", asked.text
    assert used.status_code == 200 and used.json()["grant"]["status"] == "consumed", used.text
