"""`GET /actions/{id}/explain`: every rule of the policy versions in force when the action was
decided, matched or not and on which condition, and the decision they make."""

from __future__ import annotations

from models.governance import Action, PolicySet
from tests.approvals.review_helpers import make_key
from tests.conftest import Tenant
from tests.policies.helpers import make_policy, over, pay, update_policy


async def test_explain_shows_the_version_that_decided_not_todays(tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100, require=["kyc"]), {"when": {"actionType": "refund"}, "deny": True}])
        old = await pay(c, 500)
        assert old["status"] == "pending_approval"
        await update_policy(c, policy["id"], rules=[over(1000, require=["kyc"])])
        new = await pay(c, 500)
        assert new["status"] == "approved"
        then = await c.get(f"/api/v1/actions/{old['actionId']}/explain")
        assert then.status_code == 200, then.text
        body = then.json()
        assert body["decision"]["status"] == "pending_approval" and body["status"] == "pending_approval"
        assert body["decision"]["decision"]["checks"] == [{"name": "kyc", "status": "pending", "note": None}]
        [explained] = body["policies"]
        assert (explained["policyId"], explained["version"], explained["currentVersion"]) == (policy["id"], 1, 2)
        first, second = explained["rules"]
        assert first["matched"] and first["failedOn"] is None and first["outcome"] == "pending_approval"
        assert first["effect"]["require"] == ["kyc"]
        assert {"field": "params.amount", "expected": {"gt": 100}, "actual": 500, "holds": True} in first["conditions"]
        assert not second["matched"] and second["failedOn"] == "actionType"
        now = (await c.get(f"/actions/{new['actionId']}/explain")).json()
        assert now["decision"]["status"] == "approved" and now["policies"][0]["version"] == 2
        [rule] = now["policies"][0]["rules"]
        assert rule["failedOn"] == "params.amount"
        assert rule["conditions"][1] == {"field": "params.amount", "expected": {"gt": 1000}, "actual": 500,
                                         "holds": False}


async def test_one_set_row_serves_every_action_decided_under_it(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await make_policy(c, [over(100)])
        ids = [(await pay(c, amount))["actionId"] for amount in (10, 200)]
        await make_policy(c, [over(1)], status="archived")  # the cache is dropped; the active set is the same
        ids.append((await pay(c, 3000))["actionId"])
    sets = {a.policy_set_id for a in await Action.filter(id__in=ids)}
    assert len(sets) == 1 and None not in sets
    assert await PolicySet.filter(organization_id=tenant.organization_id).count() == 1


async def test_explain_needs_both_read_scopes_and_hides_other_organizations(tenant: Tenant,
                                                                           other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        await make_policy(c, [over(100)])
        action = await pay(c, 500)
    agent = await make_key(tenant, "agent", ["actions:write"])
    reader = await make_key(tenant, "reader", ["actions:read"])
    for key in (agent, reader):
        async with key.client() as c:
            denied = await c.get(f"/api/v1/actions/{action['actionId']}/explain")
            assert denied.status_code == 403 and denied.json()["error"] == "FORBIDDEN"
    async with other_tenant.client() as c:
        hidden = await c.get(f"/api/v1/actions/{action['actionId']}/explain")
        assert hidden.status_code == 404 and hidden.json()["error"] == "NOT_FOUND"
        assert (await c.get("/api/v1/actions/act_nope/explain")).status_code == 404


async def test_an_action_no_policy_decided_answers_409(tenant: Tenant) -> None:
    async with tenant.client() as c:
        action = await pay(c, 500)
    await Action.filter(id=action["actionId"]).update(policy_set_id=None)  # as before versions were recorded
    async with tenant.client() as c:
        answer = await c.get(f"/api/v1/actions/{action['actionId']}/explain")
    assert answer.status_code == 409 and answer.json()["error"] == "CONFLICT"
