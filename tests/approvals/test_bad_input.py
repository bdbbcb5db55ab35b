"""Bad input, in both doors: a 4xx with the documented body naming the spot, and nothing changed."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from app.core.clock import utcnow
from models.governance import Action
from resolvers.governance.rules import RuleError, validate_rules
from tests.approvals.review_helpers import agent_and_reviewers, create_group, create_policy, propose, refused, snapshot
from tests.conftest import Tenant

CREATE = 'mutation($r: JSON!) { createPolicy(input: {rules: $r}) { id } }'


@pytest.mark.parametrize(("rule", "path"), [
    ({"approvals": 0}, "rules[0].approvals"),
    ({"approvals": True}, "rules[0].approvals"),
    ({"approvals": 1.5}, "rules[0].approvals"),
    ({"approvers": []}, "rules[0].approvers"),
    ({"approvers": ["ok", 3]}, "rules[0].approvers[1]"),
    ({"allowEdit": "yes"}, "rules[0].allowEdit"),
    ({"onExpire": "ignore"}, "rules[0].onExpire"),
    ({"onExpire": "escalate"}, "rules[0].escalateTo"),
    ({"escalateTo": "ops"}, "rules[0].escalateTo"),
    ({"onExpire": "approve", "require": ["scan"]}, "rules[0].onExpire"),
    ({"approvals": 2, "approval": "auto"}, "rules[0].approval"),
])
def test_rule_keys_are_validated_with_their_path(rule: dict, path: str) -> None:
    with pytest.raises(RuleError) as caught:
        validate_rules([{"when": {"actionType": "x"}, **rule}])
    assert caught.value.path == path


def test_rules_without_review_keys_normalise_as_before() -> None:
    assert validate_rules([{"when": {"actionType": "x"}}])[0].to_json() == {
        "when": {"actionType": "x"}, "require": [], "approval": "manual", "deny": False}


async def test_unknown_group_or_key_and_sizes_are_400_naming_the_path(tenant: Tenant) -> None:
    _agent, (alice, bob, _carol) = await agent_and_reviewers(tenant)
    await create_group(tenant, "pair", [alice.id, bob.id])
    await create_group(tenant, "solo", [alice.id])
    before = await snapshot()
    cases = [
        ({"approvers": ["nobody"]}, "rules[0].approvers[0]", "nobody"),
        ({"approvers": ["pair", "key_unknown"]}, "rules[0].approvers[1]", "key_unknown"),
        ({"approvals": 3, "approvers": ["pair"]}, "rules[0].approvals", "only 2"),
        ({"approvals": 0, "approvers": ["pair"]}, "rules[0].approvals", "from 1"),
        ({"approvals": 2, "approvers": ["pair"], "onExpire": "escalate", "escalateTo": "solo"},
         "rules[0].escalateTo", "only 1"),
        ({"onExpire": "escalate", "escalateTo": "ghosts"}, "rules[0].escalateTo", "ghosts"),
        ({"onExpire": "approve", "require": ["scan"]}, "rules[0].onExpire", "evidence"),
    ]
    async with tenant.client() as c:
        for extra, path, word in cases:
            response = await c.post("/policy", json={"rules": [{"when": {"actionType": "x"}, **extra}]})
            refused(response, 400, "VALIDATION_ERROR", path, word)
            out = await tenant.graphql(CREATE, {"r": [{"when": {"actionType": "x"}, **extra}]})
            assert out["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", out
            assert path in out["errors"][0]["message"]
    assert await snapshot() == before


async def test_approving_an_expired_action_is_409_and_changes_nothing(tenant: Tenant) -> None:
    agent, (alice, _bob, _carol) = await agent_and_reviewers(tenant)
    await create_policy(tenant, [{"when": {"actionType": "x"}, "approvers": [alice.id], "allowEdit": True}])
    proposed = await propose(agent, "x", {"n": 1})
    await Action.filter(id=proposed["actionId"]).update(expires_at=utcnow() - timedelta(seconds=1))
    deadline = time.monotonic() + 10
    while (await Action.get(id=proposed["actionId"])).status != "expired":  # the in-process expiry job
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    before = await snapshot()
    async with alice.client() as c:
        refused(await c.post(f"/approvals/{proposed['approvalId']}/approve", json={"params": {"n": 2}}),
                409, "CONFLICT", "expired")
        refused(await c.post(f"/actions/{proposed['actionId']}/reject"), 409, "CONFLICT")
    out = await alice.graphql('mutation($id: ID!) { approveAction(approvalId: $id) { status } }',
                              {"id": proposed["approvalId"]})
    assert out["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert await snapshot() == before


async def test_an_expires_in_past_ten_years_is_400_and_one_stored_before_still_decides(tenant: Tenant) -> None:
    """`expiresIn: 10**12` (31,700 years) was stored, and every matching proposal was then a 500
    (OverflowError: the deadline fell past the year 9999). Now it is refused where rules are written;
    a rule stored before the bound still decides, its deadline capped at ten years."""
    from models.governance import Policy

    huge = [{"when": {"actionType": "pay"}, "expiresIn": 10**12}]
    async with tenant.client() as c:
        rest = await c.post("/policy", json={"rules": huge})
        simulated = await c.post("/policy/simulate", json={"type": "pay", "actor": {"kind": "agent"},
                                                            "policies": [{"rules": huge}]})
        graphql = await tenant.graphql(CREATE, {"r": huge})
        assert rest.status_code == 400 and simulated.status_code == 400, (rest.text, simulated.text)
        assert rest.json()["error"] == "VALIDATION_ERROR" and "rules[0].expiresIn" in rest.json()["message"]
        assert graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", graphql
        assert (await c.get("/policy")).json() == []
        ten_years = await c.post("/policy", json={"rules": [{"when": {"actionType": "pay"}, "expiresIn": 315_360_000}]})
        assert ten_years.status_code == 201, ten_years.text
        policy_id = ten_years.json()["id"]
        await Policy.filter(id=policy_id).update(rules=huge)  # as a row written before the bound holds it
        # (nothing has compiled the policies since the create dropped them: the proposal reads the row)
        proposed = await c.post("/actions", json={"type": "pay", "actor": {"kind": "agent"}})
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "pending_approval"
    assert proposed.json()["expiresAt"] < f"{utcnow().year + 11}", proposed.json()["expiresAt"]
