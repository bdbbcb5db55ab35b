"""Why the engine decided what it did: every rule of the given policies checked, condition by condition.

Pure, like engine.py. ``explain`` evaluates every rule without the index (an explanation must also
say which rules did not match, and on which condition), records each condition's expected and
actual value, and combines the matching rules with the engine's own ``decide_matched``: the
decision it answers is the one ``decide`` gives for the same policies (tests/resolvers hold it to
that on random policy sets).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.governance.engine import (
    ActionFacts,
    Decision,
    PolicySpec,
    RuleEntry,
    alone,
    decide_matched,
    rule_entries,
)
from resolvers.governance.matching import MISSING, lookup
from resolvers.governance.rules import Mode, TextCondition, When


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition of a rule's ``when``: what it asks, what the action had, and whether it held."""

    field: str  # actionType, actor.kind, actor.name, actor.provider, target, agentId, actor.verified, params.<path>
    expected: Any  # as the rule writes it (a pattern, a list of them, an operator object, a boolean)
    actual: Any  # the action's value; None when absent
    holds: bool


@dataclass(frozen=True, slots=True)
class RuleExplanation:
    """One rule: matched when every condition held; ``effect`` is what it asks for (its rule without
    ``when``) and ``outcome`` what it would decide alone, enforced."""

    policy_id: str
    rule_index: int
    mode: Mode
    matched: bool
    conditions: tuple[ConditionResult, ...]
    effect: dict[str, Any]
    outcome: str

    @property
    def failed_on(self) -> str | None:
        """The first condition that did not hold (None when the rule matched)."""
        return next((c.field for c in self.conditions if not c.holds), None)


@dataclass(frozen=True, slots=True)
class Explanation:
    rules: tuple[RuleExplanation, ...]
    decision: Decision


def explain(policies: Sequence[PolicySpec], facts: ActionFacts) -> Explanation:
    """Every rule of `policies` (in evaluation order) checked against `facts`, and the decision."""
    entries = rule_entries(policies)
    explained = tuple(_rule(entry, facts) for entry in entries)
    matched = [entry for entry, rule in zip(entries, explained, strict=True) if rule.matched]
    return Explanation(explained, decide_matched(matched))


def _rule(entry: RuleEntry, facts: ActionFacts) -> RuleExplanation:
    conditions = tuple(conditions_of(entry.rule.when, facts))
    effect = {key: value for key, value in entry.rule.to_json().items() if key != "when"}
    return RuleExplanation(entry.policy_id, entry.rule_index, entry.mode, all(c.holds for c in conditions),
                           conditions, effect, alone(entry.rule))


def conditions_of(when: When, facts: ActionFacts) -> Iterator[ConditionResult]:
    """Each condition a ``when`` sets, in a fixed order; an empty ``when`` has none (matches all)."""
    texts: tuple[tuple[str, TextCondition | None, str | None], ...] = (
        ("actionType", when.action_type, facts.action_type),
        ("actor.kind", when.actor_kind, facts.actor_kind),
        ("actor.name", when.actor_name, facts.actor_name),
        ("actor.provider", when.actor_provider, facts.actor_provider),
        ("target", when.target, facts.target),
        ("agentId", when.agent_id, facts.agent_id),
    )
    for name, cond, value in texts:
        if cond is not None:
            yield ConditionResult(name, cond.to_json(), value, cond.matches(value))
    if when.actor_verified is not None:
        yield ConditionResult("actor.verified", when.actor_verified, facts.actor_verified,
                              when.actor_verified == facts.actor_verified)
    for param in when.params:
        value = lookup(facts.params, param.path)
        yield ConditionResult("params." + ".".join(param.path), param.to_json(),
                              None if value is MISSING else value, param.holds(facts.params))
