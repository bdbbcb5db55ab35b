"""The engine's index (exact names and globs, on action types and targets) against a plain scan:
on random policy sets the indexed decision is exactly the one every rule checked in order gives."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.governance.engine import ActionFacts, CompiledPolicies, PolicySpec, decide_without_index
from resolvers.governance.pattern_index import PatternIndex, literal_prefix, literal_suffix
from resolvers.governance.rules import validate_rules

# Short names over few letters, so random globs and values often meet (and often just miss).
LETTERS = "ab._/"
names = st.text(alphabet=LETTERS, min_size=0, max_size=5)
globs = st.builds(lambda a, w, b: a + w + b, names, st.sampled_from(["*", "?", "[ab]", "[!a]", "*?", "[]"]), names)
patterns = st.one_of(names.filter(bool), globs)
pattern_lists = st.one_of(patterns, st.lists(patterns, min_size=1, max_size=3))


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    when: dict[str, Any] = {}
    if draw(st.booleans()):
        when["actionType"] = draw(pattern_lists)
    if draw(st.booleans()):
        when["target"] = draw(pattern_lists)
    if draw(st.integers(0, 3)) == 0:
        when["actor.kind"] = draw(st.sampled_from(["agent", "human"]))
    rule: dict[str, Any] = {"when": when, "require": draw(st.lists(st.sampled_from(["r1", "r2"]), max_size=2))}
    rule["approval"] = draw(st.sampled_from(["manual", "auto"]))
    if draw(st.integers(0, 5)) == 0:
        rule["deny"] = True
    if draw(st.integers(0, 4)) == 0:
        rule["mode"] = "observe"
    return rule


@st.composite
def policy_sets(draw: st.DrawFn) -> list[PolicySpec]:
    count = draw(st.integers(0, 12))
    return [
        PolicySpec(f"pol_{i}", draw(st.sampled_from(["enforce", "observe"])),  # type: ignore[arg-type]
                   validate_rules(draw(st.lists(rules(), min_size=1, max_size=3))))
        for i in range(count)
    ]


facts = st.builds(ActionFacts, names.filter(bool), st.sampled_from([None, "agent", "human"]), st.none(),
                  st.none(), st.one_of(st.none(), names))


@settings(max_examples=600, deadline=None)
@given(policy_sets(), st.lists(facts, min_size=1, max_size=5))
def test_indexed_decisions_equal_a_plain_scan(policies: list[PolicySpec], many: list[ActionFacts]) -> None:
    compiled = CompiledPolicies.build(policies)
    for f in many:
        assert compiled.decide(f) == decide_without_index(policies, f)


@settings(max_examples=400, deadline=None)
@given(patterns, names)
def test_a_glob_that_matches_has_its_literal_start_or_end(pattern: str, value: str) -> None:
    """What the index relies on: a match starts with the literal prefix and ends with the suffix."""
    index: PatternIndex[str] = PatternIndex()
    if not PatternIndex.can_file([pattern]):
        return
    index.add([pattern], pattern)
    matches = decide_without_index(
        [PolicySpec("p", "enforce", validate_rules([{"when": {"actionType": pattern}}]))], ActionFacts(value or "x")
    ).status == "pending_approval"
    if matches:
        assert pattern in index.candidates(value or "x")
        assert (value or "x").startswith(literal_prefix(pattern))
        assert (value or "x").endswith(literal_suffix(pattern))


def test_ten_thousand_glob_policies_leave_few_candidates() -> None:
    policies = [PolicySpec(f"pol_{n}", "enforce", validate_rules([{"when": {"actionType": f"other_type_{n}_*"}}]))
                for n in range(10_000)]
    policies.append(PolicySpec("pol_target", "enforce", validate_rules([{"when": {"target": "*.prod"}}])))
    compiled = CompiledPolicies.build(policies)
    assert [e.policy_id for e in compiled.candidates(ActionFacts("other_type_42_delete", target="db.prod"))] == [
        "pol_42", "pol_target"]
    assert list(compiled.candidates(ActionFacts("send_email", target="db.staging"))) == []
