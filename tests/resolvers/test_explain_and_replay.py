"""Explain and backtest against the engine, on random policy sets and actions.

An explanation checks every rule condition by condition without the index; its decision must be the
one the indexed engine gives. A backtest whose drafts are today's policies written out again (their
stored JSON validated anew, each replacing itself) must change no decision.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.governance.engine import ActionFacts, CompiledPolicies, PolicySpec
from resolvers.governance.explain import explain
from resolvers.governance.replay import Draft, Replay, apply_drafts
from resolvers.governance.rules import validate_rules
from tests.resolvers.test_engine_index import names, pattern_lists

values = st.one_of(st.integers(-5, 5), st.sampled_from(["a", "b", "ab"]), st.booleans(), st.none())


@st.composite
def params_conditions(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(["n", "s", "deep.k"]), max_size=2, unique=True)):
        op = draw(st.sampled_from(["eq", "ne", "gt", "lte", "in", "contains", "plain"]))
        if op == "plain":
            out[key] = draw(values)
        elif op in ("gt", "lte"):
            out[key] = {op: draw(st.integers(-5, 5))}
        elif op == "in":
            out[key] = {op: draw(st.lists(values, max_size=3))}
        else:
            out[key] = {op: draw(values)}
    return out


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    when: dict[str, Any] = {}
    if draw(st.booleans()):
        when["actionType"] = draw(pattern_lists)
    if draw(st.integers(0, 2)) == 0:
        when["target"] = draw(pattern_lists)
    if draw(st.integers(0, 3)) == 0:
        when["actor"] = {"kind": draw(st.sampled_from(["agent", "human"]))}
    if draw(st.integers(0, 4)) == 0:
        when["agentId"] = draw(pattern_lists)
    if draw(st.integers(0, 5)) == 0:
        when.setdefault("actor", {})["verified"] = draw(st.booleans())
    if draw(st.booleans()):
        when["params"] = draw(params_conditions())
    rule: dict[str, Any] = {"when": when, "require": draw(st.lists(st.sampled_from(["r1", "r2"]), max_size=2))}
    rule["approval"] = draw(st.sampled_from(["manual", "auto"]))
    if draw(st.integers(0, 5)) == 0:
        rule["deny"] = True
    if draw(st.integers(0, 4)) == 0:
        rule["mode"] = draw(st.sampled_from(["observe", "enforce"]))
    if draw(st.integers(0, 3)) == 0:
        rule["expiresIn"] = draw(st.integers(1, 1000))
    return rule


@st.composite
def policy_sets(draw: st.DrawFn) -> list[PolicySpec]:
    return [
        PolicySpec(f"pol_{i}", draw(st.sampled_from(["enforce", "observe"])),  # type: ignore[arg-type]
                   validate_rules(draw(st.lists(rules(), min_size=1, max_size=3))))
        for i in range(draw(st.integers(0, 10)))
    ]


params = st.fixed_dictionaries({}, optional={"n": values, "s": values, "deep": st.fixed_dictionaries({"k": values})})
facts = st.builds(ActionFacts, names.filter(bool), st.sampled_from([None, "agent", "human"]), st.none(), st.none(),
                  st.one_of(st.none(), names), params, st.one_of(st.none(), names), st.booleans())


@settings(max_examples=500, deadline=None)
@given(policy_sets(), st.lists(facts, min_size=1, max_size=5))
def test_the_explained_decision_is_the_engines(policies: list[PolicySpec], many: list[ActionFacts]) -> None:
    compiled = CompiledPolicies.build(policies)
    for f in many:
        explanation = explain(policies, f)
        assert explanation.decision == compiled.decide(f)
        assert compiled.status(f) == explanation.decision.status  # the backtests' short path
        matched = [(r.policy_id, r.rule_index) for r in explanation.rules if r.matched]
        assert all(r.failed_on is None for r in explanation.rules if r.matched)
        assert all(r.failed_on is not None for r in explanation.rules if not r.matched)
        assert {pid for pid, _ in matched} == set(explanation.decision.policy_ids)


def _rewritten(policy: PolicySpec) -> Draft:
    """The policy as a draft of itself: its stored JSON validated again, replacing it."""
    rules_json = [rule.to_json() for rule in policy.rules]
    return Draft(PolicySpec(policy.id, policy.mode, validate_rules(rules_json)), replaces=policy.id)


@settings(max_examples=300, deadline=None)
@given(policy_sets(), st.lists(facts, min_size=1, max_size=8))
def test_drafts_equal_to_the_current_policies_change_nothing(policies: list[PolicySpec],
                                                             many: list[ActionFacts]) -> None:
    drafted = apply_drafts(policies, [_rewritten(p) for p in policies], frozenset())
    replay = Replay.of(policies, drafted)
    for number, f in enumerate(many):
        replay.add(f"act_{number}", f)
    assert replay.changed == 0 and replay.changes == []
    assert replay.before == replay.after and sum(replay.before.values()) == len(many)


def test_a_tightened_rule_names_exactly_the_actions_it_now_holds() -> None:
    current = [PolicySpec("pol_pay", "enforce", validate_rules([{"when": {"actionType": "pay",
                                                                         "params": {"amount": {"gt": 1000}}}}]))]
    tightened = Draft(PolicySpec("pol_pay", "enforce", validate_rules(
        [{"when": {"actionType": "pay", "params": {"amount": {"gt": 100}}}}])), replaces="pol_pay")
    replay = Replay.of(current, apply_drafts(current, [tightened], frozenset()))
    for number, amount in enumerate([50, 150, 500, 2000, 100, 101]):
        replay.add(f"act_{number}", ActionFacts("pay", params={"amount": amount}))
    replay.add("act_mail", ActionFacts("send_email", params={"amount": 5000}))
    assert [(c.action_id, c.before, c.after, c.policy_id, c.rule_index, c.side) for c in replay.changes] == [
        ("act_1", "approved", "pending_approval", "pol_pay", 0, "after"),
        ("act_2", "approved", "pending_approval", "pol_pay", 0, "after"),
        ("act_5", "approved", "pending_approval", "pol_pay", 0, "after"),
    ]
    assert replay.before == {"approved": 6, "pending_approval": 1}
    assert replay.after == {"approved": 3, "pending_approval": 4}


def test_the_responsible_rule_is_one_that_holds_the_action() -> None:
    """A matching `auto` rule without checks approves on its own: the rule named is the one that waits."""
    current = [PolicySpec("pol_auto", "enforce", validate_rules([{"when": {"actionType": "pay"}, "approval": "auto"}]))]
    added = Draft(PolicySpec("draft_0", "enforce", validate_rules([{"when": {"target": "prod"}}])))
    replay = Replay.of(current, apply_drafts(current, [added], frozenset()))
    replay.add("act_1", ActionFacts("pay", target="prod"))
    assert [(c.policy_id, c.after) for c in replay.changes] == [("draft_0", "pending_approval")]


def test_removing_a_deny_names_the_rule_that_no_longer_holds() -> None:
    current = [PolicySpec("pol_keep", "enforce", validate_rules([{"when": {"actionType": "x"}}])),
               PolicySpec("pol_deny", "enforce", validate_rules([{"when": {"target": "prod"}, "deny": True}]))]
    replay = Replay.of(current, apply_drafts(current, [], frozenset({"pol_deny"})))
    replay.add("act_1", ActionFacts("y", target="prod"))
    replay.add("act_2", ActionFacts("x", target="prod"))
    replay.add("act_3", ActionFacts("y", target="dev"))
    assert [(c.action_id, c.before, c.after, c.policy_id, c.side) for c in replay.changes] == [
        ("act_1", "rejected", "approved", "pol_deny", "before"),
        ("act_2", "rejected", "pending_approval", "pol_deny", "before"),
    ]


def test_explain_names_the_failing_condition_and_what_a_rule_asks() -> None:
    policies = [PolicySpec("pol_a", "enforce", validate_rules([
        {"when": {"actionType": "pay", "params": {"amount": {"gt": 100}}}, "require": ["kyc"], "expiresIn": 60},
        {"when": {"actionType": "refund"}, "deny": True},
    ]))]
    explanation = explain(policies, ActionFacts("pay", params={"amount": 50}))
    first, second = explanation.rules
    assert (first.matched, first.failed_on, second.failed_on) == (False, "params.amount", "actionType")
    assert [(c.field, c.expected, c.actual, c.holds) for c in first.conditions] == [
        ("actionType", "pay", "pay", True), ("params.amount", {"gt": 100}, 50, False)]
    assert explanation.decision.status == "approved"
    matched = explain(policies, ActionFacts("pay", params={"amount": 500}))
    assert matched.rules[0].matched and matched.rules[0].outcome == "pending_approval"
    assert matched.rules[0].effect == {"require": ["kyc"], "approval": "manual", "deny": False, "expiresIn": 60}
    assert matched.decision.status == "pending_approval" and matched.decision.expires_in == 60
