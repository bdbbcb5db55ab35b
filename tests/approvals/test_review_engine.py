"""How matching rules' review keys combine (pure engine, no database), and simulation showing it."""

from __future__ import annotations

from resolvers.governance.engine import ActionFacts, PolicySpec, Review, decide
from resolvers.governance.rules import validate_rules
from tests.approvals.review_helpers import create_policy
from tests.conftest import Tenant


def _decide(*rules: dict) -> Review | None:
    policies = [PolicySpec(f"pol_{i}", "enforce", validate_rules([rule])) for i, rule in enumerate(rules)]
    return decide(policies, ActionFacts("refund")).review


def test_rules_without_review_keys_give_no_review() -> None:
    assert _decide({"when": {"actionType": "refund"}}) is None


def test_largest_quorum_union_of_approvers_and_the_most_cautious_outcome() -> None:
    review = _decide(
        {"approvals": 1, "approvers": ["key_a", "grp_b"], "onExpire": "approve"},
        {"approvals": 2, "approvers": ["grp_b", "key_c"], "onExpire": "escalate", "escalateTo": "grp_d"},
        {"allowEdit": True},
    )
    assert review == Review(quorum=True, approvals=2, approvers=("key_a", "grp_b", "key_c"), allow_edit=True,
                            on_expire="escalate", escalate_to="grp_d")
    assert _decide({"onExpire": "escalate", "escalateTo": "g"}, {"onExpire": "reject"}).on_expire == "reject"


def test_edit_needs_no_rule_against_it_and_approve_never_skips_evidence() -> None:
    assert _decide({"allowEdit": True}, {"allowEdit": False}).allow_edit is False  # type: ignore[union-attr]
    review = _decide({"onExpire": "approve"}, {"require": ["scan"]})
    assert review is not None and review.on_expire == "expire" and review.quorum is False


def test_a_quorum_makes_the_approval_manual() -> None:
    policies = [PolicySpec("p", "enforce", validate_rules([{"approval": "auto", "require": ["x"]},
                                                          {"approvals": 1}]))]
    assert decide(policies, ActionFacts("refund")).approval == "manual"


async def test_simulation_shows_the_review_in_both_doors(tenant: Tenant) -> None:
    await create_policy(tenant, [{"when": {"actionType": "refund"}, "approvals": 1, "onExpire": "reject"}])
    body = {"type": "refund", "actor": {"kind": "agent"}}
    async with tenant.client() as c:
        rest = (await c.post("/policy/simulate", json=body)).json()["review"]
    out = await tenant.graphql('mutation { simulateDecision(input: {type: "refund", actor: {kind: "agent"}}) '
                               '{ review } }')
    assert rest == out["data"]["simulateDecision"]["review"] == {
        "quorum": True, "approvals": 1, "approvers": [], "allowEdit": False, "onExpire": "reject",
        "escalateTo": None}
