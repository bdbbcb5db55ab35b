"""`grantFor`: a human approval re-approves the same actor, type and target within the window,
each use recorded in both actions' history and in the event; bad windows are refused."""

from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from models.events import Event
from models.governance import Action, ActionHistory, Policy
from tests.approvals.helpers import EMAIL, approve, make_policy, propose
from tests.conftest import Tenant

WINDOW_RULE = {"when": {"actionType": "send_email"}, "approval": "manual", "grantFor": "10m"}
PROPOSE = """mutation($input: ProposeActionInput!) { proposeAction(input: $input) {
  action { id status decidedBy grant { status } history { kind detail } } } }"""


async def test_approval_opens_a_window_for_the_same_actor_type_and_target(tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy = await make_policy(c, rules=[WINDOW_RULE])
        assert policy["rules"][0]["grantFor"] == "10m"
        first = await propose(c)
        assert first["status"] == "pending_approval"
        await approve(c, first["actionId"])
        again = await propose(c, params={"subject": "Another refund", "amount": 12})
        assert again["status"] == "approved" and again["approvalId"] is None
        got = (await c.get(f"/actions/{again['actionId']}")).json()
        assert got["decidedBy"] == f"grant:{first['actionId']}" and got["grant"]["status"] == "active"
        other_target = await propose(c, target="bob@example.com")
        other_actor = await propose(c, actor={"kind": "agent", "name": "other-bot"})
        assert other_target["status"] == other_actor["status"] == "pending_approval"
    [event] = await Event.filter(type="action.approved", data__contains={"actionId": again["actionId"]})
    assert event.data["grantedBy"] == first["actionId"]
    granted = await ActionHistory.filter(action_id=again["actionId"], kind="granted").values_list("detail", flat=True)
    used = await ActionHistory.filter(action_id=first["actionId"], kind="grant_used").values_list("detail", flat=True)
    assert list(granted) == [{"grantedBy": first["actionId"]}] and list(used) == [{"actionId": again["actionId"]}]


async def test_the_window_closes_and_only_human_approvals_open_it(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await make_policy(c, rules=[WINDOW_RULE])
        first = await propose(c)
        await approve(c, first["actionId"])
        await Action.filter(id=first["actionId"]).update(decided_at=utcnow() - timedelta(minutes=11))
        late = await propose(c)
        assert late["status"] == "pending_approval"
        # a rule without grantFor beside it wants a human every time
        await make_policy(c, rules=[{"when": {"actionType": "send_email"}}])
        await approve(c, late["actionId"])
        strict = await propose(c)
        assert strict["status"] == "pending_approval"


async def test_graphql_shows_the_granted_action_and_its_history(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await make_policy(c, rules=[WINDOW_RULE])
        first = await propose(c)
        await approve(c, first["actionId"])
    answer = await tenant.graphql(PROPOSE, {"input": EMAIL})
    action = answer["data"]["proposeAction"]["action"]
    assert action["status"] == "approved" and action["decidedBy"] == f"grant:{first['actionId']}"
    assert [h["kind"] for h in action["history"]] == ["proposed", "granted"]


async def test_bad_grant_windows_are_400_and_store_nothing(tenant: Tenant) -> None:
    async with tenant.client() as c:
        for bad in ("10x", 0, -5, "31d", True, "m", "1.5h", [1]):
            rule = {**WINDOW_RULE, "grantFor": bad}
            answer = await c.post("/api/v1/policy", json={"rules": [rule]})
            assert answer.status_code == 400, (bad, answer.text)
            assert answer.json()["message"].startswith("rules[0].grantFor"), answer.text
        assert (await c.post("/api/v1/policy", json={"rules": [{**WINDOW_RULE, "grantFor": 3600}]})).json()[
            "rules"][0]["grantFor"] == "1h"
    assert await Policy.filter(organization_id=tenant.organization_id).count() == 1
