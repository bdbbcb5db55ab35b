"""The policy engine: pure decisions on proposed actions, and how evidence moves them on.

No I/O: callers load the organisation's active policies, build a ``CompiledPolicies`` once (it can
be cached until a policy changes) and call ``decide`` per action; they persist what comes back.

Index: rules whose ``actionType`` is one exact name or a list of exact names sit in a dict keyed by
that name; every other rule (a glob anywhere in the list, or no ``actionType``) sits in one
"wildcard" bucket. Deciding looks up one dict entry and scans the wildcard bucket, so policies for
unrelated action types cost nothing. Each entry carries a sequence number (policy order, then rule
order) and the two buckets are merged on it, so results come out in policy order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, NamedTuple

from resolvers.governance.rules import MODES, Approval, Mode, Rule, When

Status = Literal["approved", "pending_approval", "rejected"]
CheckStatus = Literal["pending", "passed", "failed", "observed"]

DEFAULT_EXPIRES_IN: Final = 86_400


@dataclass(frozen=True)
class ActionFacts:
    """What the engine may look at in a proposed action."""

    action_type: str
    actor_kind: str | None = None
    actor_name: str | None = None
    actor_provider: str | None = None
    target: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class PolicySpec:
    """An active policy as the engine sees it; archived policies must not be passed in."""

    id: str
    mode: Mode
    rules: Sequence[Rule] = field(default=(), hash=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"policy {self.id}: mode must be one of {MODES}, got {self.mode!r}")


@dataclass(frozen=True)
class CheckState:
    """A check on an action. ``required`` checks gate the decision; others (observed, or evidence
    nobody asked for) are kept for the audit trail only."""

    name: str
    status: CheckStatus
    note: str | None = None
    required: bool = True


class Observation(NamedTuple):
    """What one matching observe-mode rule would have decided had it been enforced."""

    policy_id: str
    rule_index: int
    would_status: Status
    requires: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """The engine's answer. ``approval`` and ``expires_in`` are set only when pending."""

    status: Status
    policy_ids: tuple[str, ...] = ()
    checks: tuple[CheckState, ...] = ()
    approval: Approval | None = None
    expires_in: int | None = None
    observed: tuple[Observation, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """One submitted check result (the wire's ``pass`` is ``passed`` here)."""

    name: str
    passed: bool
    note: str | None = None


@dataclass(frozen=True)
class EvidenceOutcome:
    """Checks after evidence, the resulting status, and whether a human may now approve."""

    status: Status
    checks: tuple[CheckState, ...]
    ready_for_human: bool


@dataclass(frozen=True)
class _Entry:
    seq: int
    policy_id: str
    rule_index: int
    rule: Rule
    mode: Mode


class CompiledPolicies:
    """An index over one organisation's active policies; build once, decide many times."""

    __slots__ = ("_by_type", "_wildcard")

    def __init__(self, by_type: Mapping[str, tuple[_Entry, ...]], wildcard: tuple[_Entry, ...]) -> None:
        self._by_type = by_type
        self._wildcard = wildcard

    @classmethod
    def build(cls, policies: Sequence[PolicySpec]) -> CompiledPolicies:
        by_type: dict[str, list[_Entry]] = {}
        wildcard: list[_Entry] = []
        for entry in _entries(policies):
            names = _exact_action_types(entry.rule)
            if names is None:
                wildcard.append(entry)
            for name in names or ():
                by_type.setdefault(name, []).append(entry)
        return cls({name: tuple(entries) for name, entries in by_type.items()}, tuple(wildcard))

    def decide(self, facts: ActionFacts) -> Decision:
        """Decide one action; see ``_verdict`` for how matching rules combine."""
        matched = [entry for entry in self.candidates(facts.action_type) if _holds(entry.rule.when, facts)]
        enforced = [entry.rule for entry in matched if entry.mode == "enforce"]
        observed = tuple(_observation(entry) for entry in matched if entry.mode == "observe")
        policy_ids = tuple(dict.fromkeys(entry.policy_id for entry in matched))
        return _verdict(enforced, observed, policy_ids)

    def candidates(self, action_type: str) -> Iterable[_Entry]:
        """The rules an action of this type is checked against: its own and the wildcard ones, in
        policy order. The index keeps this short however many policies the organization has."""
        exact = self._by_type.get(action_type, ())
        if not (exact and self._wildcard):
            return exact or self._wildcard
        return heapq.merge(exact, self._wildcard, key=lambda entry: entry.seq)


def standing(compiled: CompiledPolicies, facts: ActionFacts) -> tuple[bool, bool]:
    """(admitted, denied) of an action type before any params are known, for listing what an agent
    may call: admitted when an enforce-mode rule matches whatever the params, denied when such a
    rule has ``deny`` and no params condition (it refuses every call)."""
    admitted = denied = False
    for entry in compiled.candidates(facts.action_type):
        if entry.mode != "enforce" or not _holds(replace(entry.rule.when, params=()), facts):
            continue
        admitted = True
        denied = denied or (entry.rule.deny and not entry.rule.when.params)
    return admitted, denied


def decide(policies: Sequence[PolicySpec], facts: ActionFacts) -> Decision:
    """One-off decision; prefer a cached ``CompiledPolicies`` when deciding many actions."""
    return CompiledPolicies.build(policies).decide(facts)


def _entries(policies: Sequence[PolicySpec]) -> Iterator[_Entry]:
    """Every rule with its effective mode: a rule's own mode overrides its policy's."""
    seq = 0
    for policy in policies:
        for index, rule in enumerate(policy.rules):
            yield _Entry(seq, policy.id, index, rule, rule.mode or policy.mode)
            seq += 1


def _exact_action_types(rule: Rule) -> tuple[str, ...] | None:
    """The names a rule can be filed under, or None when it must be checked for every action."""
    condition = rule.when.action_type
    if condition is None or condition.globs:
        return None
    return condition.patterns


def _holds(when: When, facts: ActionFacts) -> bool:
    """All given conditions must hold; absent conditions are no constraint."""
    texts = (
        (when.action_type, facts.action_type),
        (when.actor_kind, facts.actor_kind),
        (when.actor_name, facts.actor_name),
        (when.actor_provider, facts.actor_provider),
        (when.target, facts.target),
    )
    if not all(cond.matches(value) for cond, value in texts if cond is not None):
        return False
    return all(cond.holds(facts.params) for cond in when.params)


def _observation(entry: _Entry) -> Observation:
    rule = entry.rule
    return Observation(entry.policy_id, entry.rule_index, _verdict([rule], (), ()).status, rule.require)


def _verdict(
    enforced: Sequence[Rule], observed: tuple[Observation, ...], policy_ids: tuple[str, ...]
) -> Decision:
    """Combine matching enforce rules: deny wins, else pending with the union of required checks.

    A pending decision with no required check and ``auto`` approval would wait for nothing, so it is
    approved at once. A rejection lists no required checks: evidence can no longer change it.
    """
    if any(rule.deny for rule in enforced):
        return Decision("rejected", policy_ids, _observed_checks(observed, ()), observed=observed)
    required = tuple(dict.fromkeys(name for rule in enforced for name in rule.require))
    approval: Approval = "manual" if any(rule.approval == "manual" for rule in enforced) else "auto"
    extras = _observed_checks(observed, required)
    if not enforced or (not required and approval == "auto"):
        return Decision("approved", policy_ids, extras, observed=observed)
    checks = tuple(CheckState(name, "pending") for name in required) + extras
    return Decision("pending_approval", policy_ids, checks, approval, _expires_in(enforced), observed)


def _observed_checks(observed: Iterable[Observation], required: tuple[str, ...]) -> tuple[CheckState, ...]:
    """Checks observe-mode rules would have asked for, unless an enforced rule requires them anyway."""
    names = dict.fromkeys(name for obs in observed for name in obs.requires if name not in required)
    return tuple(CheckState(name, "observed", required=False) for name in names)


def _expires_in(enforced: Iterable[Rule]) -> int:
    """The tightest deadline any matching rule sets; rules without ``expiresIn`` have no say."""
    return min(
        (rule.expires_in for rule in enforced if rule.expires_in is not None), default=DEFAULT_EXPIRES_IN
    )


def can_approve(checks: Sequence[CheckState]) -> bool:
    """A human may approve only once every required check has passed."""
    return all(check.status == "passed" for check in checks if check.required)


def apply_evidence(
    status: Status,
    approval: Approval | None,
    checks: Sequence[CheckState],
    evidence: Sequence[Evidence],
) -> EvidenceOutcome:
    """Record evidence and move a pending action on.

    Evidence for a check nobody required is kept as a non-required check. On a pending action a
    failed required check rejects it; all required passed approves it when approval is ``auto``
    and leaves it pending (``ready_for_human``) when ``manual``. An action that is no longer pending
    keeps its status: evidence is recorded but cannot reopen a decision.
    """
    updated = _record(checks, evidence)
    new_status = _status_after(status, approval, updated)
    return EvidenceOutcome(new_status, updated, new_status == "pending_approval" and can_approve(updated))


def _record(checks: Sequence[CheckState], evidence: Sequence[Evidence]) -> tuple[CheckState, ...]:
    """Later evidence for the same check replaces earlier; checks keep their first position."""
    by_name = {check.name: check for check in checks}
    for item in evidence:
        previous = by_name.get(item.name)
        required = previous.required if previous else False
        by_name[item.name] = CheckState(item.name, "passed" if item.passed else "failed", item.note, required)
    return tuple(by_name.values())


def _status_after(status: Status, approval: Approval | None, checks: Sequence[CheckState]) -> Status:
    if status != "pending_approval":
        return status
    if any(check.status == "failed" for check in checks if check.required):
        return "rejected"
    if approval == "auto" and can_approve(checks):
        return "approved"
    return "pending_approval"
