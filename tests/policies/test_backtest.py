"""`POST /policy/backtest`: recorded actions replayed through today's policies and draft ones.

Nothing is stored; drafts equal to today's policies change nothing; a tightened rule lists exactly
the actions it would now hold; bad drafts are 400 naming the field; another organization's actions
are never replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.governance import Action, Policy, PolicyVersion
from resolvers.governance import backtest
from tests.approvals.review_helpers import make_key
from tests.conftest import Tenant
from tests.policies.helpers import make_policy, over, pay


async def _run(c: Any, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    answer = await c.post("/api/v1/policy/backtest", json=body)
    assert answer.status_code == status, answer.text
    return dict(answer.json())


async def test_drafts_equal_to_todays_policies_change_nothing(tenant: Tenant) -> None:
    async with tenant.client() as c:
        policy = await make_policy(c, [over(100, require=["kyc"]), {"when": {"target": "acct_9"}, "deny": True}])
        for amount, target in ((50, "acct_1"), (500, "acct_1"), (5, "acct_9")):
            await pay(c, amount, target=target)
        same = {key: policy[key] for key in ("name", "mode", "rules")}
        result = await _run(c, {"policies": [{**same, "replaces": policy["id"]}]})
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert (await _run(c, {"from": "2026-01-01T00:00:00", "to": later}))["actions"] == 3  # from: no offset (UTC)
    assert result["actions"] == 3 and result["changed"] == 0 and result["changes"] == []
    assert result["before"] == result["after"] == {"approved": 1, "pending_approval": 1, "rejected": 1}


async def test_a_tightened_rule_lists_exactly_the_actions_it_would_hold(tenant: Tenant, other_tenant: Tenant) -> None:
    async with other_tenant.client() as c:
        await pay(c, 700)  # another organization's action, inside the window
    async with tenant.client() as c:
        policy = await make_policy(c, [over(1000)])
        ids = {amount: (await pay(c, amount))["actionId"] for amount in (50, 150, 700, 5000)}
        mail = await c.post("/api/v1/actions", json={"type": "send_email", "actor": {"kind": "agent"},
                                                     "params": {"amount": 700}})
        assert mail.status_code == 201
        versions = await PolicyVersion.all().count()
        result = await _run(c, {"policies": [{"rules": [over(100)], "replaces": policy["id"]}]})
    assert result["actions"] == 5
    assert result["before"] == {"approved": 4, "pending_approval": 1, "rejected": 0}
    assert result["after"] == {"approved": 2, "pending_approval": 3, "rejected": 0}
    assert [(ch["actionId"], ch["before"], ch["after"]) for ch in result["changes"]] == [
        (ids[150], "approved", "pending_approval"), (ids[700], "approved", "pending_approval")]
    assert result["changes"][0]["rule"] == {"policyId": policy["id"], "ruleIndex": 0, "side": "after", "draft": True}
    assert (await Policy.get(id=policy["id"])).rules[0]["when"]["params"] == {"amount": {"gt": 1000}}
    assert await PolicyVersion.all().count() == versions  # nothing stored


async def test_window_type_added_and_removed_policies(tenant: Tenant) -> None:
    async with tenant.client() as c:
        deny = await make_policy(c, [{"when": {"actionType": "pay", "target": "acct_9"}, "deny": True}])
        early = await pay(c, 10, target="acct_9")
        await Action.filter(id=early["actionId"]).update(created_at=datetime.now(UTC) - timedelta(days=3))
        await pay(c, 10, target="acct_9")
        await c.post("/api/v1/actions", json={"type": "refund", "actor": {"kind": "agent"}})
        since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        result = await _run(c, {"remove": [deny["id"]], "policies": [{"rules": [{"when": {"actionType": "refund"}}]}],
                                "from": since})
        assert result["actions"] == 2
        assert [(ch["type"], ch["before"], ch["after"], ch["rule"]["side"]) for ch in result["changes"]] == [
            ("pay", "rejected", "approved", "before"), ("refund", "approved", "pending_approval", "after")]
        assert result["changes"][1]["rule"]["policyId"] == "draft_0"
        typed = await _run(c, {"remove": [deny["id"]], "type": "pay"})
        assert typed["actions"] == 2 and typed["changed"] == 2
        capped = await _run(c, {"remove": [deny["id"]], "type": "pay", "maxChanges": 1})
        assert capped["changed"] == 2 and len(capped["changes"]) == 1 and capped["truncated"] is True
        archived = await _run(c, {"policies": [{"status": "archived", "replaces": deny["id"]}], "type": "pay"})
        assert archived["changed"] == typed["changed"] == 2  # an archived draft removes it: no rules needed
        ruleless = await _run(c, {"policies": [{"replaces": deny["id"]}]}, 400)
        assert "policies[0].rules" in ruleless["message"], ruleless


async def test_bad_drafts_are_400_naming_the_field(tenant: Tenant, other_tenant: Tenant) -> None:
    async with other_tenant.client() as c:
        foreign = await make_policy(c, [over(1)])
    async with tenant.client() as c:
        mine = await make_policy(c, [over(1)])
        cases = [
            ({"policies": [{"rules": [{"when": {"colour": "red"}}]}]}, "policies[0].rules[0].when.colour"),
            ({"policies": [{"rules": [over(1)], "replaces": foreign["id"]}]}, "policies[0].replaces"),
            ({"policies": [{"rules": [], "replaces": mine["id"]}, {"rules": [], "replaces": mine["id"]}]},
             "policies[1].replaces"),
            ({"remove": [foreign["id"]]}, "remove[0]"),
            ({"policies": [{"rules": [], "mode": "loud"}]}, "policies.0.mode"),
            ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
            ({"from": "yesterday"}, "from"),
            ({"from": "0001-01-01T00:00:00+01:00"}, "from"),  # no such instant in UTC
            ({"to": "9999-12-31T23:59:59-01:00"}, "to"),
            ({"maxChanges": 10_001}, "maxChanges"),
            ({"window": 1}, "window"),
        ]
        for body, field in cases:
            answer = await _run(c, body, 400)
            assert answer["error"] == "VALIDATION_ERROR" and field in answer["message"], (body, answer)


async def test_more_than_the_maximum_is_400(tenant: Tenant, monkeypatch: Any) -> None:
    monkeypatch.setattr(backtest, "MAX_ACTIONS", 2)
    async with tenant.client() as c:
        for amount in (1, 2, 3):
            await pay(c, amount)
        answer = await _run(c, {}, 400)
        assert "window" in answer["message"] and "3 actions" in answer["message"]
        assert (await _run(c, {"type": "pay", "from": datetime.now(UTC).isoformat()}))["actions"] == 0



async def test_backtest_needs_policies_and_actions_read(tenant: Tenant) -> None:
    for scopes in (["actions:read"], ["policies:read"]):
        key = await make_key(tenant, "partial", scopes)
        async with key.client() as c:
            assert (await _run(c, {}, 403))["error"] == "FORBIDDEN"
    key = await make_key(tenant, "reader", ["*:read"])
    async with key.client() as c:
        assert (await _run(c, {}))["actions"] == 0


async def test_text_no_database_can_hold_is_400(tenant: Tenant) -> None:
    async with tenant.client() as c:
        bodies = ({"type": "pay\u0000"}, {"remove": ["pol_\u0000"]},
                  {"policies": [{"rules": [], "replaces": "\u0000"}]})
        for body in bodies:
            answer = await _run(c, body, 400)
            assert answer["error"] == "VALIDATION_ERROR"
