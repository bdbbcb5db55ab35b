"""The pure policy engine: rule validation, matching, decisions and evidence. No database needed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.governance import engine
from resolvers.governance.engine import (
    DEFAULT_EXPIRES_IN,
    ActionFacts,
    CheckState,
    CompiledPolicies,
    Decision,
    Evidence,
    Observation,
    PolicySpec,
    apply_evidence,
    can_approve,
    decide,
)
from resolvers.governance.rules import Rule, RuleError, validate_rules

# ---------------------------------------------------------------------------------------- helpers


def policy(pid: str, *rules: dict[str, Any], mode: str = "enforce") -> PolicySpec:
    return PolicySpec(pid, mode, validate_rules(list(rules)))  # type: ignore[arg-type]


def facts(action_type: str = "send_email", **kw: Any) -> ActionFacts:
    return ActionFacts(action_type, **kw)


def one_rule_matches(when: dict[str, Any], f: ActionFacts) -> bool:
    """Does a single enforce rule with this ``when`` match the facts? (pending means matched)"""
    return decide([policy("pol_1", {"when": when})], f).status == "pending_approval"


def required(decision: Decision) -> list[str]:
    return [c.name for c in decision.checks if c.required]


# ------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("rules", "path", "message"),
    [
        ({"when": {}}, "rules", "must be a list"),
        (["nope"], "rules[0]", "must be an object"),
        (
            [{"when": {"params": {"amount": {"gtx": 1}}}}],
            "rules[0].when.params.amount.gtx",
            "unknown operator 'gtx'",
        ),
        (
            [{"when": {"params.amount": {"gtx": 1}}}],
            "rules[0].when.params.amount.gtx",
            "unknown operator 'gtx'",
        ),
        ([{}, {"when": {"colour": "red"}}], "rules[1].when.colour", "unknown field"),
        ([{"requires": ["x"]}], "rules[0].requires", "unknown field"),
        ([{"when": "send_email"}], "rules[0].when", "must be an object"),
        ([{"when": {"actor": {"colour": "x"}}}], "rules[0].when.actor.colour", "unknown field"),
        ([{"when": {"actor": "agent"}}], "rules[0].when.actor", "must be an object"),
        ([{"when": {"actor.kind": "a", "actor": {"kind": "b"}}}], "rules[0].when.actor.kind", "twice"),
        ([{"when": {"actor": {"verified": "yes"}}}], "rules[0].when.actor.verified", "true or false"),
        ([{"when": {"actor.verified": 1}}], "rules[0].when.actor.verified", "true or false"),
        ([{"when": {"actor.verified": True, "actor": {"verified": True}}}], "rules[0].when.actor.verified", "twice"),
        ([{"when": {"agentId": []}}], "rules[0].when.agentId", "non-empty list"),
        ([{"when": {"agentId": 7}}], "rules[0].when.agentId", "must be a string"),
        ([{"when": {"params.amount": 1, "params": {"amount": 2}}}], "rules[0].when.params.amount", "twice"),
        ([{"when": {"actionType": 3}}], "rules[0].when.actionType", "string"),
        ([{"when": {"actionType": []}}], "rules[0].when.actionType", "non-empty list"),
        ([{"when": {"target": ["a@x", 2]}}], "rules[0].when.target[1]", "non-empty string"),
        ([{"when": {"actionType": ""}}], "rules[0].when.actionType", "non-empty string"),
        ([{"require": "review"}], "rules[0].require", "list of check names"),
        ([{"require": ["review", 7]}], "rules[0].require[1]", "non-empty string"),
        ([{"deny": "yes"}], "rules[0].deny", "true or false"),
        ([{"deny": 1}], "rules[0].deny", "true or false"),
        ([{"approval": "sometimes"}], "rules[0].approval", "must be one of"),
        ([{"mode": "audit"}], "rules[0].mode", "must be one of"),
        ([{"expiresIn": 0}], "rules[0].expiresIn", "positive"),
        ([{"expiresIn": -5}], "rules[0].expiresIn", "positive"),
        ([{"expiresIn": 1.5}], "rules[0].expiresIn", "positive"),
        ([{"expiresIn": True}], "rules[0].expiresIn", "positive"),
        ([{"expiresIn": "3600"}], "rules[0].expiresIn", "positive"),
        ([{"when": {"params": {"amount": {"in": 5}}}}], "rules[0].when.params.amount.in", "must be a list"),
        ([{"when": {"params": {"amount": {"gt": "5"}}}}], "rules[0].when.params.amount.gt", "number"),
        ([{"when": {"params": {"amount": {"lte": True}}}}], "rules[0].when.params.amount.lte", "number"),
        (
            [{"when": {"params": {"amount": {"gte": float("nan")}}}}],
            "rules[0].when.params.amount.gte",
            "number",
        ),
        ([{"when": {"params": {"amount": {}}}}], "rules[0].when.params.amount", "at least one operator"),
        ([{"when": {"params": {"a..b": 1}}}], "rules[0].when.params.a..b", "none of them empty"),
        ([{"when": {"params": "amount"}}], "rules[0].when.params", "must be an object"),
        (
            [{"when": {"params": {"s": {"matches": "("}}}}],
            "rules[0].when.params.s.matches",
            "invalid regular",
        ),
        (
            [{"when": {"params": {"s": {"matches": "a" * 257}}}}],
            "rules[0].when.params.s.matches",
            "longer than",
        ),
        (
            [{"when": {"params": {"s": {"matches": 5}}}}],
            "rules[0].when.params.s.matches",
            "regular expression",
        ),
        ([{"when": {"params": {"s": {"eq": {1, 2}}}}}], "rules[0].when.params.s.eq", "not a JSON value"),
        (
            [{"when": {"params": {"s": {"in": [1, object()]}}}}],
            "rules[0].when.params.s.in[1]",
            "not a JSON value",
        ),
    ],
)
def test_validation_errors_name_the_exact_path(rules: object, path: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        validate_rules(rules)
    assert caught.value.path == path
    assert message in caught.value.message
    assert isinstance(caught.value, ValueError)


def test_valid_rules_are_normalised() -> None:
    [rule] = validate_rules(
        [
            {
                "when": {
                    "actionType": ["send_*", "refund"],
                    "actor.kind": "agent",
                    "actor": {"provider": "openai"},
                    "params.amount": {"gt": 1000},
                    "params": {"recipient.domain": "example.com", "tags": {"contains": "vip", "ne": None}},
                },
                "require": ["review", "scan", "review"],
                "expiresIn": 3600,
                "mode": "observe",
            }
        ]
    )
    assert rule.to_json() == {
        "when": {
            "actionType": ["send_*", "refund"],
            "actor": {"kind": "agent", "provider": "openai"},
            "params": {
                "amount": {"gt": 1000},
                "recipient.domain": {"eq": "example.com"},
                "tags": {"contains": "vip", "ne": None},
            },
        },
        "require": ["review", "scan"],
        "approval": "manual",
        "deny": False,
        "expiresIn": 3600,
        "mode": "observe",
    }
    assert validate_rules([rule.to_json()]) == [rule]


def test_defaults_and_nulls() -> None:
    [empty, nulls] = validate_rules([{}, {"when": None, "require": None, "approval": None, "mode": None}])
    assert empty == nulls == Rule()
    assert empty.to_json() == {"when": {}, "require": [], "approval": "manual", "deny": False}
    assert validate_rules([]) == []


def test_rule_keeps_its_own_copy_of_operands() -> None:
    raw = {"when": {"params": {"region": {"in": ["eu", "us"]}}}}
    rules = validate_rules([raw])
    raw["when"]["params"]["region"]["in"].append("apac")  # type: ignore[index]
    exported = rules[0].to_json()
    exported["when"]["params"]["region"]["in"].append("cn")
    assert rules[0].to_json()["when"]["params"]["region"]["in"] == ["eu", "us"]


# --------------------------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("spec", "params", "expected"),
    [
        (5, {"amount": 5}, True),
        (5, {"amount": 5.0}, True),
        (5, {"amount": 6}, False),
        (1, {"amount": True}, False),
        ({"eq": True}, {"amount": 1}, False),
        ({"eq": "5"}, {"amount": 5}, False),
        ({"eq": {"a": [1, 2]}}, {"amount": {"a": [1, 2]}}, True),
        ({"eq": None}, {"amount": None}, True),
        ({"eq": None}, {}, False),
        ({"ne": "prod"}, {"amount": "dev"}, True),
        ({"ne": "prod"}, {"amount": "prod"}, False),
        ({"ne": "prod"}, {}, True),
        ({"gt": 1000}, {"amount": 1001}, True),
        ({"gt": 1000}, {"amount": 1000}, False),
        ({"gte": 1000}, {"amount": 1000}, True),
        ({"gte": 1000}, {"amount": 999.5}, False),
        ({"lt": 10}, {"amount": 9}, True),
        ({"lt": 10}, {"amount": 10}, False),
        ({"lte": 10}, {"amount": 10}, True),
        ({"lte": 10}, {"amount": 11}, False),
        ({"gt": 1}, {"amount": "2"}, False),
        ({"gt": 0}, {"amount": True}, False),
        ({"lt": 5}, {"amount": None}, False),
        ({"gt": 1}, {}, False),
        ({"in": ["eu", "us"]}, {"amount": "eu"}, True),
        ({"in": ["eu", "us"]}, {"amount": "cn"}, False),
        ({"in": [1]}, {"amount": True}, False),
        ({"in": ["eu"]}, {}, False),
        ({"contains": "vip"}, {"amount": "a vip customer"}, True),
        ({"contains": "vip"}, {"amount": "regular"}, False),
        ({"contains": "vip"}, {"amount": ["new", "vip"]}, True),
        ({"contains": 2}, {"amount": [1, 2]}, True),
        ({"contains": 2}, {"amount": "123"}, False),
        ({"contains": "a"}, {"amount": {"a": 1}}, False),
        ({"matches": r"^\d{3}-\d{4}$"}, {"amount": "555-1234"}, True),
        ({"matches": r"^\d{3}-\d{4}$"}, {"amount": "x555-1234"}, False),
        ({"matches": "free"}, {"amount": "get it free now"}, True),
        ({"matches": "5"}, {"amount": 5}, False),
        ({"gt": 10, "lt": 20}, {"amount": 15}, True),
        ({"gt": 10, "lt": 20}, {"amount": 25}, False),
    ],
)
def test_param_operators(spec: Any, params: dict[str, Any], expected: bool) -> None:
    assert one_rule_matches({"params": {"amount": spec}}, facts(params=params)) is expected


def test_null_param_means_eq_null_not_absent() -> None:
    for when in ({"params.amount": None}, {"params": {"amount": None}}):
        assert one_rule_matches(when, facts(params={"amount": None}))
        assert not one_rule_matches(when, facts(params={}))
        assert not one_rule_matches(when, facts(params={"amount": 0}))


def test_dotted_paths_reach_into_nested_objects_and_lists() -> None:
    nested = {"recipient": {"domain": "example.com"}, "items": [{"sku": "A1"}]}
    assert one_rule_matches({"params": {"recipient.domain": "example.com"}}, facts(params=nested))
    assert one_rule_matches({"params.items.0.sku": "A1"}, facts(params=nested))
    assert not one_rule_matches({"params.items.1.sku": "A1"}, facts(params=nested))
    assert not one_rule_matches({"params.recipient.domain.tld": "com"}, facts(params=nested))
    assert not one_rule_matches({"params.recipient.domain": "example.com"}, facts(params={"recipient": "x"}))


@pytest.mark.parametrize(
    ("pattern", "action_type", "expected"),
    [
        ("send_email", "send_email", True),
        ("send_email", "send_sms", False),
        ("send_*", "send_email", True),
        ("send_*", "resend_email", False),
        ("Send_*", "send_email", False),
        ("?efund", "refund", True),
        ("[rd]*", "delete_post", True),
        ("*", "anything", True),
        (["refund", "send_*"], "send_sms", True),
        (["refund", "delete_*"], "send_sms", False),
    ],
)
def test_action_type_exact_glob_and_list(pattern: Any, action_type: str, expected: bool) -> None:
    assert one_rule_matches({"actionType": pattern}, facts(action_type)) is expected


def test_target_globs_and_absent_target() -> None:
    when = {"target": ["*@example.com", "ops@corp.io"]}
    assert one_rule_matches(when, facts(target="user@example.com"))
    assert one_rule_matches(when, facts(target="ops@corp.io"))
    assert not one_rule_matches(when, facts(target="user@example.org"))
    assert not one_rule_matches(when, facts(target=None))


def test_actor_conditions_flat_and_nested() -> None:
    bot = facts(actor_kind="agent", actor_name="marketing-bot", actor_provider="openai")
    assert one_rule_matches({"actor": {"kind": "agent", "name": "*-bot"}}, bot)
    assert one_rule_matches({"actor.provider": ["openai", "anthropic"]}, bot)
    assert not one_rule_matches({"actor.kind": "human"}, bot)
    assert not one_rule_matches({"actor.provider": "*"}, facts(actor_kind="agent"))


def test_agent_id_and_verified_actor_conditions() -> None:
    proven = facts(actor_kind="agent", actor_name="bot", agent_id="agt_1", actor_verified=True)
    claimed = facts(actor_kind="agent", actor_name="bot", agent_id="agt_1")
    assert one_rule_matches({"agentId": "agt_1"}, proven) and one_rule_matches({"agentId": "agt_1"}, claimed)
    assert one_rule_matches({"agentId": ["agt_2", "agt_*"]}, proven)
    assert not one_rule_matches({"agentId": "agt_2"}, proven)
    assert not one_rule_matches({"agentId": "agt_1"}, facts())  # no agent: never matches a condition on it
    assert one_rule_matches({"actor": {"name": "bot", "verified": True}}, proven)
    assert not one_rule_matches({"actor": {"name": "bot", "verified": True}}, claimed)
    assert one_rule_matches({"actor.verified": False}, claimed) and one_rule_matches({}, claimed)
    [rule] = validate_rules([{"when": {"actor.verified": True, "agentId": "agt_1"}}])
    assert rule.to_json()["when"] == {"actor": {"verified": True}, "agentId": "agt_1"}
    assert validate_rules([rule.to_json()]) == [rule]


def test_all_conditions_must_hold() -> None:
    when = {"actionType": "refund", "actor.kind": "agent", "params": {"amount": {"gt": 100}}}
    assert one_rule_matches(when, facts("refund", actor_kind="agent", params={"amount": 500}))
    assert not one_rule_matches(when, facts("refund", actor_kind="agent", params={"amount": 50}))
    assert not one_rule_matches(when, facts("refund", actor_kind="human", params={"amount": 500}))


# -------------------------------------------------------------------------------------- decisions


def test_no_matching_policy_approves() -> None:
    assert decide([], facts()) == Decision("approved")
    assert decide([policy("pol_1", {"when": {"actionType": "refund"}})], facts()) == Decision("approved")


def test_matching_rule_defaults_to_manual_pending() -> None:
    decision = decide(
        [policy("pol_1", {"when": {"actionType": "send_email"}, "require": ["review"]})], facts()
    )
    assert decision.status == "pending_approval"
    assert decision.policy_ids == ("pol_1",)
    assert decision.checks == (CheckState("review", "pending"),)
    assert decision.approval == "manual"
    assert decision.expires_in == DEFAULT_EXPIRES_IN


def test_auto_without_checks_is_approved_at_once_and_manual_without_checks_waits() -> None:
    auto = decide([policy("pol_1", {"approval": "auto"})], facts())
    assert (auto.status, auto.policy_ids, auto.approval, auto.expires_in) == (
        "approved",
        ("pol_1",),
        None,
        None,
    )
    manual = decide([policy("pol_1", {})], facts())
    assert (manual.status, manual.approval, manual.checks) == ("pending_approval", "manual", ())


def test_required_checks_are_a_union_in_order_and_any_manual_wins() -> None:
    policies = [
        policy("pol_1", {"require": ["scan", "review"], "approval": "auto"}),
        policy("pol_2", {"require": ["review", "legal"], "approval": "auto"}, {"require": ["scan"]}),
    ]
    decision = decide(policies, facts())
    assert required(decision) == ["scan", "review", "legal"]
    assert decision.approval == "manual"
    assert decide(policies[:1], facts()).approval == "auto"


def test_expires_in_is_the_minimum_of_rules_that_set_it() -> None:
    policies = [policy("pol_1", {"expiresIn": 7200}, {"expiresIn": 600}, {"require": ["x"]})]
    assert decide(policies, facts()).expires_in == 600
    assert decide([policy("pol_1", {"expiresIn": 172800}, {})], facts()).expires_in == 172800
    assert decide([policy("pol_1", {"deny": True, "expiresIn": 5})], facts()).expires_in is None


def test_deny_rejects_and_drops_required_checks() -> None:
    policies = [
        policy("pol_1", {"require": ["review"]}),
        policy("pol_2", {"when": {"params.amount": {"gt": 1000}}, "deny": True}),
    ]
    rejected = decide(policies, facts(params={"amount": 5000}))
    assert (rejected.status, rejected.policy_ids, rejected.checks) == ("rejected", ("pol_1", "pol_2"), ())
    assert decide(policies, facts(params={"amount": 10})).status == "pending_approval"


def test_observe_policy_approves_and_records_what_enforce_would_require() -> None:
    policies = [
        policy("pol_obs", {"require": ["review"]}, {"deny": True}, {"approval": "auto"}, mode="observe"),
    ]
    decision = decide(policies, facts())
    assert decision.status == "approved"
    assert decision.policy_ids == ("pol_obs",)
    assert decision.checks == (CheckState("review", "observed", required=False),)
    assert decision.observed == (
        Observation("pol_obs", 0, "pending_approval", ("review",)),
        Observation("pol_obs", 1, "rejected", ()),
        Observation("pol_obs", 2, "approved", ()),
    )


def test_observed_checks_do_not_duplicate_required_ones() -> None:
    policies = [
        policy("pol_obs", {"require": ["review", "tone"]}, mode="observe"),
        policy("pol_enf", {"require": ["review"]}),
    ]
    decision = decide(policies, facts())
    assert decision.checks == (
        CheckState("review", "pending"),
        CheckState("tone", "observed", required=False),
    )
    assert decision.policy_ids == ("pol_obs", "pol_enf")


def test_rule_mode_overrides_policy_mode() -> None:
    enforced_in_observe = [policy("pol_1", {"require": ["review"], "mode": "enforce"}, mode="observe")]
    assert decide(enforced_in_observe, facts()).status == "pending_approval"
    observed_in_enforce = [policy("pol_1", {"deny": True, "mode": "observe"}, mode="enforce")]
    decision = decide(observed_in_enforce, facts())
    assert decision.status == "approved"
    assert decision.observed == (Observation("pol_1", 0, "rejected", ()),)


def test_policy_ids_keep_policy_order_across_index_buckets() -> None:
    policies = [
        policy("pol_a", {"when": {"actionType": "send_*"}}),
        policy("pol_b", {"when": {"actionType": "send_email"}}),
        policy("pol_c", {}),
        policy("pol_d", {"when": {"actionType": ["refund", "send_email"]}}),
        policy("pol_e", {"when": {"actionType": "refund"}}),
    ]
    compiled = CompiledPolicies.build(policies)
    assert compiled.decide(facts()).policy_ids == ("pol_a", "pol_b", "pol_c", "pol_d")
    assert compiled.decide(facts("refund")).policy_ids == ("pol_c", "pol_d", "pol_e")


def test_unrelated_policies_are_not_scanned() -> None:
    policies = [policy(f"pol_{i}", {"when": {"actionType": f"type_{i}"}}) for i in range(2000)]
    policies.append(policy("pol_glob", {"when": {"actionType": "type_1*"}}))
    compiled = CompiledPolicies.build(policies)
    assert [entry.policy_id for entry in compiled.candidates(facts("type_1500"))] == ["pol_1500", "pol_glob"]
    assert compiled.decide(facts("type_1500")).policy_ids == ("pol_1500", "pol_glob")


def test_policy_spec_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        PolicySpec("pol_1", "audit", [])  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- evidence


def pending(*names: str, approval: str = "manual") -> Decision:
    rule = {"require": list(names), "approval": approval}
    decision = decide([policy("pol_1", rule)], facts())
    assert decision.status == "pending_approval"
    return decision


def test_failed_required_check_rejects() -> None:
    decision = pending("scan", "review", approval="auto")
    outcome = apply_evidence(
        decision.status, decision.approval, decision.checks, [Evidence("scan", False, "virus")]
    )
    assert outcome.status == "rejected"
    assert outcome.checks[0] == CheckState("scan", "failed", "virus")
    assert outcome.ready_for_human is False


def test_all_required_passed_with_auto_approves() -> None:
    decision = pending("scan", "review", approval="auto")
    first = apply_evidence(decision.status, decision.approval, decision.checks, [Evidence("scan", True)])
    assert (first.status, first.ready_for_human) == ("pending_approval", False)
    second = apply_evidence(first.status, decision.approval, first.checks, [Evidence("review", True, "ok")])
    assert second.status == "approved"
    assert second.checks == (CheckState("scan", "passed"), CheckState("review", "passed", "ok"))


def test_manual_stays_pending_until_a_human_acts() -> None:
    decision = pending("scan")
    assert not can_approve(decision.checks)
    outcome = apply_evidence(decision.status, decision.approval, decision.checks, [Evidence("scan", True)])
    assert (outcome.status, outcome.ready_for_human) == ("pending_approval", True)
    assert can_approve(outcome.checks)


def test_unrequested_evidence_is_kept_but_does_not_decide() -> None:
    decision = pending("scan", approval="auto")
    outcome = apply_evidence(
        decision.status, decision.approval, decision.checks, [Evidence("extra", False, "meh")]
    )
    assert outcome.status == "pending_approval"
    assert outcome.checks[-1] == CheckState("extra", "failed", "meh", required=False)
    done = apply_evidence(outcome.status, decision.approval, outcome.checks, [Evidence("scan", True)])
    assert done.status == "approved"


def test_evidence_on_observed_check_never_rejects() -> None:
    decision = decide([policy("pol_1", {"require": ["tone"]}, mode="observe")], facts())
    outcome = apply_evidence(decision.status, decision.approval, decision.checks, [Evidence("tone", False)])
    assert outcome.status == "approved"
    assert outcome.checks == (CheckState("tone", "failed", required=False),)


def test_later_evidence_for_a_check_wins_and_final_decisions_stay_final() -> None:
    decision = pending("scan", approval="auto")
    batch = [Evidence("scan", False), Evidence("scan", True)]
    assert apply_evidence(decision.status, decision.approval, decision.checks, batch).status == "approved"
    rejected = apply_evidence("rejected", None, decision.checks, [Evidence("scan", True)])
    assert rejected.status == "rejected"
    assert rejected.checks == (CheckState("scan", "passed"),)


def test_can_approve_only_looks_at_required_checks() -> None:
    assert can_approve([])
    assert can_approve([CheckState("a", "passed"), CheckState("b", "failed", required=False)])
    assert not can_approve([CheckState("a", "passed"), CheckState("b", "pending")])


# ------------------------------------------------------------------------------------- properties

TYPES = ["send_email", "send_sms", "refund", "delete_post"]
type_conditions = st.one_of(
    st.sampled_from([*TYPES, "send_*", "*", "re*", "?efund"]),
    st.lists(st.sampled_from([*TYPES, "send_*"]), min_size=1, max_size=3),
)
param_specs = st.one_of(
    st.integers(0, 10),
    st.fixed_dictionaries({}, optional={"gt": st.integers(0, 10), "lte": st.integers(0, 10)}).filter(bool),
    st.fixed_dictionaries({"in": st.lists(st.integers(0, 10), max_size=3)}),
    st.fixed_dictionaries({"ne": st.integers(0, 10)}),
)
whens = st.fixed_dictionaries(
    {},
    optional={
        "actionType": type_conditions,
        "actor.kind": st.sampled_from(["agent", "human", ["agent", "system"]]),
        "actor.verified": st.booleans(),
        "agentId": st.sampled_from(["agt_1", "agt_2", ["agt_1", "agt_3"], "agt_*"]),
        "params": st.dictionaries(st.sampled_from(["amount", "meta.size"]), param_specs, max_size=2),
    },
)


def rule_dicts(modes: list[str | None], deny: st.SearchStrategy[bool] = st.booleans()) -> Any:
    base = {"when": whens, "require": st.lists(st.sampled_from(["scan", "review", "legal"]), max_size=3)}
    optional = {
        "approval": st.sampled_from(["manual", "auto"]),
        "deny": deny,
        "expiresIn": st.integers(1, 100_000),
    }
    rule = st.fixed_dictionaries(base, optional=optional)
    return st.tuples(rule, st.sampled_from(modes)).map(lambda pair: {**pair[0], **_mode(pair[1])})


def _mode(mode: str | None) -> dict[str, str]:
    return {} if mode is None else {"mode": mode}


def policy_lists(
    prefix: str, policy_modes: list[str], rule_modes: list[str | None], max_size: int = 4
) -> Any:
    specs = st.tuples(st.sampled_from(policy_modes), st.lists(rule_dicts(rule_modes), max_size=3))
    return st.lists(specs, max_size=max_size).map(
        lambda items: [
            PolicySpec(f"{prefix}{i}", mode, validate_rules(rules))  # type: ignore[arg-type]
            for i, (mode, rules) in enumerate(items)
        ]
    )


any_policies = policy_lists("pol_", ["enforce", "observe"], [None, "enforce", "observe"])
action_facts = st.builds(
    ActionFacts,
    action_type=st.sampled_from(TYPES),
    actor_kind=st.sampled_from(["agent", "human", "system", None]),
    agent_id=st.sampled_from(["agt_1", "agt_2", "agent-7", None]),
    actor_verified=st.booleans(),
    params=st.fixed_dictionaries(
        {},
        optional={"amount": st.integers(0, 10), "meta": st.fixed_dictionaries({"size": st.integers(0, 10)})},
    ),
)


def insert_at(policies: list[PolicySpec], extra: list[PolicySpec], position: int) -> list[PolicySpec]:
    cut = position % (len(policies) + 1)
    return [*policies[:cut], *extra, *policies[cut:]]


@settings(deadline=None)
@given(any_policies, policy_lists("obs_", ["observe"], [None, "observe"]), st.integers(0, 10), action_facts)
def test_observe_policies_never_change_the_outcome(
    policies: list[PolicySpec], observers: list[PolicySpec], position: int, f: ActionFacts
) -> None:
    before = decide(policies, f)
    after = decide(insert_at(policies, observers, position), f)
    assert (after.status, after.approval, after.expires_in) == (
        before.status,
        before.approval,
        before.expires_in,
    )
    assert required(after) == required(before)


@settings(deadline=None)
@given(
    any_policies,
    policy_lists("nomatch_", ["enforce", "observe"], [None, "enforce"]),
    st.integers(0, 10),
    action_facts,
)
def test_adding_a_non_matching_policy_never_changes_a_decision(
    policies: list[PolicySpec], unrelated: list[PolicySpec], position: int, f: ActionFacts
) -> None:
    never = validate_rules([{"when": {"actor.name": "nobody-by-this-name"}}])[0]
    unrelated = [PolicySpec(p.id, p.mode, [*[_never_matching(r) for r in p.rules], never]) for p in unrelated]
    assert decide(insert_at(policies, unrelated, position), f) == decide(policies, f)


def _never_matching(rule: Rule) -> Rule:
    raw = rule.to_json()
    raw["when"]["target"] = "no-such-target-*"
    return validate_rules([raw])[0]


@settings(deadline=None)
@given(any_policies, st.integers(0, 10), st.sampled_from(["enforce", "observe"]), action_facts)
def test_a_matching_enforced_deny_always_wins(
    policies: list[PolicySpec], position: int, deny_policy_mode: str, f: ActionFacts
) -> None:
    deny = {"when": {"actionType": f.action_type}, "deny": True, "mode": "enforce", "require": ["x"]}
    denier = PolicySpec("pol_deny", deny_policy_mode, validate_rules([deny]))  # type: ignore[arg-type]
    decision = decide(insert_at(policies, [denier], position), f)
    assert decision.status == "rejected"
    assert "pol_deny" in decision.policy_ids
    assert required(decision) == []


@settings(deadline=None)
@given(any_policies, action_facts)
def test_index_finds_exactly_what_a_full_scan_finds(policies: list[PolicySpec], f: ActionFacts) -> None:
    scanned = tuple(p.id for p in policies if any(engine._holds(r.when, f) for r in p.rules))
    assert CompiledPolicies.build(policies).decide(f).policy_ids == scanned


@settings(deadline=None)
@given(st.lists(rule_dicts([None, "enforce", "observe"]), max_size=4))
def test_to_json_round_trips(raw_rules: list[dict[str, Any]]) -> None:
    rules = validate_rules(raw_rules)
    assert validate_rules([r.to_json() for r in rules]) == rules


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "0"]), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b"]), json_values, max_size=2))
def test_decide_never_raises_on_odd_params(params: dict[str, Any]) -> None:
    operators = {"eq": 1, "ne": "x", "gt": 1, "gte": 1.5, "lt": 2, "lte": 0, "in": [1, "a"], "contains": "a"}
    rules = [
        {"when": {"params": {path: {name: operand}}}}
        for path in ("a", "a.b", "b.0")
        for name, operand in operators.items()
    ]
    rules.append({"when": {"params": {"a": {"matches": "^a"}}}})
    decision = decide([policy("pol_1", *rules)], facts(params=params))
    assert decision.status in {"approved", "pending_approval"}
