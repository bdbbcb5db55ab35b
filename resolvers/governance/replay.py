"""Backtests, the pure half: recorded actions replayed through today's policies and through a draft set.

No I/O: the caller streams each action's facts in; both policy sets are compiled once, so a replay
costs two indexed decisions per action. A change is an action whose decision status differs; its
responsible rule is the first enforced matching rule that causes the stricter of the two decisions
(on the draft side when the drafts tighten, on today's side when they loosen).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from resolvers.governance.engine import ActionFacts, CompiledPolicies, PolicySpec, Status, deciding_rule

STRICTNESS: Final[dict[str, int]] = {"approved": 0, "pending_approval": 1, "rejected": 2}


@dataclass(frozen=True, slots=True)
class Draft:
    """A draft policy: it takes the place of policy `replaces`, or is added after the current ones."""

    policy: PolicySpec
    replaces: str | None = None
    active: bool = True  # an archived draft of a current policy removes it


def apply_drafts(current: Sequence[PolicySpec], drafts: Sequence[Draft], removed: frozenset[str]) -> list[PolicySpec]:
    """Current policies with drafts applied: a replacing draft keeps its policy's place in the order."""
    replacing = {d.replaces: d for d in drafts if d.replaces is not None}
    result = []
    for policy in current:
        if policy.id in removed:
            continue
        draft = replacing.get(policy.id)
        if draft is None:
            result.append(policy)
        elif draft.active:
            result.append(draft.policy)
    result.extend(d.policy for d in drafts if d.replaces is None and d.active)
    return result


@dataclass(frozen=True, slots=True)
class Change:
    """One action whose decision the drafts change, and the rule that makes the difference."""

    action_id: str
    action_type: str
    before: Status
    after: Status
    policy_id: str | None
    rule_index: int | None
    side: str  # "after": a rule of the draft set holds it now; "before": a rule of today's set no longer does


@dataclass(slots=True)
class Replay:
    """Feed actions with `add`; read `before`, `after` (counts per status), `changes` (at most
    `max_changes` kept, `changed` counts them all)."""

    current: CompiledPolicies
    drafted: CompiledPolicies
    max_changes: int = 1000
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)
    changed: int = 0

    @classmethod
    def of(cls, current: Sequence[PolicySpec], drafted: Sequence[PolicySpec], max_changes: int = 1000) -> Replay:
        return cls(CompiledPolicies.build(current), CompiledPolicies.build(drafted), max_changes)

    def add(self, action_id: str, facts: ActionFacts) -> None:
        old = self.current.status(facts)
        new = self.drafted.status(facts)
        self.before[old] += 1
        self.after[new] += 1
        if old != new:
            self.changed += 1
            if len(self.changes) < self.max_changes:
                self.changes.append(self._change(action_id, facts, old, new))

    def _change(self, action_id: str, facts: ActionFacts, old: Status, new: Status) -> Change:
        tighter = STRICTNESS[new] > STRICTNESS[old]
        side, compiled, status = ("after", self.drafted, new) if tighter else ("before", self.current, old)
        entry = deciding_rule(compiled, facts, status)
        return Change(action_id, facts.action_type, old, new, entry.policy_id if entry else None,
                      entry.rule_index if entry else None, side)
