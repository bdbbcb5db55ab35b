"""The policy engine: pure decisions on proposed actions, and how evidence moves them on.

No I/O: callers load the organisation's active policies, build a ``CompiledPolicies`` once (it can
be cached until a policy changes) and call ``decide`` per action; they persist what comes back.

Index: a rule is filed under its ``actionType`` patterns (exact names, and globs by their literal
start or end: pattern_index.py); a rule without one, under its ``target`` patterns; only a rule with
neither, or with a pattern that has nothing literal (``*``), is checked for every action. Deciding
gathers the rules filed under the action's type and target (a few dict lookups), so policies for
unrelated action types and targets cost nothing, globs included. Each entry carries a sequence
number (policy order, then rule order) and candidates are put back in that order, so results come
out in policy order. ``decide_without_index`` is the plain scan the index is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, NamedTuple

from resolvers.governance.pattern_index import PatternIndex
from resolvers.governance.rules import MODES, Approval, Mode, ReviewRule, Rule, When

Status = Literal["approved", "pending_approval", "rejected"]
CheckStatus = Literal["pending", "passed", "failed", "observed"]

DEFAULT_EXPIRES_IN: Final = 86_400
# When matching rules disagree on `onExpire`, the most cautious outcome wins, in this order.
EXPIRY_CAUTION: Final = ("reject", "expire", "escalate", "approve")


@dataclass(frozen=True)
class ActionFacts:
    """What the engine may look at in a proposed action."""

    action_type: str
    actor_kind: str | None = None
    actor_name: str | None = None
    actor_provider: str | None = None
    target: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    agent_id: str | None = None  # the agent the action is counted for (self-declared unless verified)
    actor_verified: bool = False  # proposed with a key bound to that agent


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
class Review:
    """How the matching enforce rules want a pending action reviewed, combined.

    ``quorum``: some rule set ``approvals`` or ``approvers``, so ``approvals`` distinct keys (the
    largest any rule asks) other than the proposer's must approve, chosen among the union of the
    rules' ``approvers`` (anyone with approvals:write when none is named). ``allow_edit`` holds when
    some rule allows editing and none forbids it. ``on_expire`` is the most cautious outcome asked.
    """

    quorum: bool = False
    approvals: int = 1
    approvers: tuple[str, ...] = ()
    allow_edit: bool = False
    on_expire: str = "expire"
    escalate_to: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"quorum": self.quorum, "approvals": self.approvals, "approvers": list(self.approvers),
                "allowEdit": self.allow_edit, "onExpire": self.on_expire, "escalateTo": self.escalate_to}


@dataclass(frozen=True)
class Decision:
    """The engine's answer. ``approval``, ``expires_in`` and ``review`` are set only when pending
    (``review`` only when a matching rule sets one of its keys)."""

    status: Status
    policy_ids: tuple[str, ...] = ()
    checks: tuple[CheckState, ...] = ()
    approval: Approval | None = None
    expires_in: int | None = None
    observed: tuple[Observation, ...] = ()
    grant_for: int | None = None  # set when pending and every enforced matching rule gives `grantFor`
    review: Review | None = None


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
class RuleEntry:
    """One rule as the engine files it: its policy, its index there and its effective mode."""

    seq: int
    policy_id: str
    rule_index: int
    rule: Rule
    mode: Mode


class CompiledPolicies:
    """An index over one organisation's active policies; build once, decide many times."""

    __slots__ = ("_always", "_by_target", "_by_type")

    def __init__(self, by_type: PatternIndex[RuleEntry], by_target: PatternIndex[RuleEntry],
                 always: tuple[RuleEntry, ...]) -> None:
        self._by_type = by_type
        self._by_target = by_target
        self._always = always

    @classmethod
    def build(cls, policies: Sequence[PolicySpec]) -> CompiledPolicies:
        by_type: PatternIndex[RuleEntry] = PatternIndex()
        by_target: PatternIndex[RuleEntry] = PatternIndex()
        always: list[RuleEntry] = []
        for entry in _entries(policies):
            when = entry.rule.when
            if when.action_type is not None and PatternIndex.can_file(when.action_type.patterns):
                by_type.add(when.action_type.patterns, entry)
            elif when.action_type is None and when.target is not None and PatternIndex.can_file(when.target.patterns):
                by_target.add(when.target.patterns, entry)
            else:
                always.append(entry)
        return cls(by_type, by_target, tuple(always))

    def decide(self, facts: ActionFacts) -> Decision:
        """Decide one action; see ``_verdict`` for how matching rules combine."""
        return _decide(self.candidates(facts), facts)

    def status(self, facts: ActionFacts) -> Status:
        """``decide(facts).status`` without building the decision (backtests replay thousands):
        observe-mode rules cannot change a status, so they are not even matched."""
        enforced = required = manual = False
        for entry in self.candidates(facts):
            if entry.mode != "enforce" or not _holds(entry.rule.when, facts):
                continue
            if entry.rule.deny:
                return "rejected"
            enforced = True
            required = required or bool(entry.rule.require)
            manual = manual or entry.rule.approval == "manual"
        return "pending_approval" if enforced and (required or manual) else "approved"

    def candidates(self, facts: ActionFacts) -> Sequence[RuleEntry]:
        """The rules an action is checked against, in policy order: those filed under its type or
        target, and those that must always be checked. The index keeps this short however many
        policies the organization has."""
        found = self._by_type.candidates(facts.action_type)
        found.extend(self._by_target.candidates(facts.target))
        if not found:
            return self._always
        found.extend(self._always)
        if len(found) == 1:
            return found
        return sorted({entry.seq: entry for entry in found}.values(), key=_by_seq)


def standing(compiled: CompiledPolicies, facts: ActionFacts) -> tuple[bool, bool]:
    """(admitted, denied) of an action type before any params are known, for listing what an agent
    may call: admitted when an enforce-mode rule matches whatever the params, denied when such a
    rule has ``deny`` and no params condition (it refuses every call)."""
    admitted = denied = False
    for entry in compiled.candidates(facts):
        if entry.mode != "enforce" or not _holds(replace(entry.rule.when, params=()), facts):
            continue
        admitted = True
        denied = denied or (entry.rule.deny and not entry.rule.when.params)
    return admitted, denied


def decide(policies: Sequence[PolicySpec], facts: ActionFacts) -> Decision:
    """One-off decision; prefer a cached ``CompiledPolicies`` when deciding many actions."""
    return CompiledPolicies.build(policies).decide(facts)


def decide_without_index(policies: Sequence[PolicySpec], facts: ActionFacts) -> Decision:
    """Every rule checked, in order: the reference the index must agree with (tests, backtests)."""
    return _decide(list(_entries(policies)), facts)


def _decide(candidates: Iterable[RuleEntry], facts: ActionFacts) -> Decision:
    return decide_matched([entry for entry in candidates if _holds(entry.rule.when, facts)])


def decide_matched(matched: Sequence[RuleEntry]) -> Decision:
    """The decision once the matching rules are known (in policy order): see ``_verdict``."""
    enforced = [entry.rule for entry in matched if entry.mode == "enforce"]
    observed = tuple(_observation(entry) for entry in matched if entry.mode == "observe")
    policy_ids = tuple(dict.fromkeys(entry.policy_id for entry in matched))
    return _verdict(enforced, observed, policy_ids)


def rule_entries(policies: Sequence[PolicySpec]) -> list[RuleEntry]:
    """Every rule of `policies` in evaluation order, with its effective mode (explain, backtest)."""
    return list(_entries(policies))


def alone(rule: Rule) -> Status:
    """What one rule would decide were it the only one matching, enforced."""
    return _verdict([rule], (), ()).status


def deciding_rule(compiled: CompiledPolicies, facts: ActionFacts, status: Status) -> RuleEntry | None:
    """The first matching enforced rule that gives `status` its cause: a ``deny`` for rejected, one
    that requires checks or a human for pending; None when approved (no enforced rule holds it)."""
    for entry in compiled.candidates(facts):
        if entry.mode != "enforce" or not _holds(entry.rule.when, facts):
            continue
        rule = entry.rule
        holding = not rule.deny and (bool(rule.require) or rule.approval == "manual")
        if (status == "rejected" and rule.deny) or (status == "pending_approval" and holding):
            return entry
    return None


def _by_seq(entry: RuleEntry) -> int:
    return entry.seq


def _entries(policies: Sequence[PolicySpec]) -> Iterator[RuleEntry]:
    """Every rule with its effective mode: a rule's own mode overrides its policy's."""
    seq = 0
    for policy in policies:
        for index, rule in enumerate(policy.rules):
            yield RuleEntry(seq, policy.id, index, rule, rule.mode or policy.mode)
            seq += 1


def _holds(when: When, facts: ActionFacts) -> bool:
    """All given conditions must hold; absent conditions are no constraint."""
    texts = (
        (when.action_type, facts.action_type),
        (when.actor_kind, facts.actor_kind),
        (when.actor_name, facts.actor_name),
        (when.actor_provider, facts.actor_provider),
        (when.target, facts.target),
        (when.agent_id, facts.agent_id),
    )
    if not all(cond.matches(value) for cond, value in texts if cond is not None):
        return False
    if when.actor_verified is not None and when.actor_verified != facts.actor_verified:
        return False
    return all(cond.holds(facts.params) for cond in when.params)


def _observation(entry: RuleEntry) -> Observation:
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
    review = _review([rule.review for rule in enforced if rule.review is not None], bool(required))
    if review is not None and review.quorum:
        approval = "manual"
    return Decision("pending_approval", policy_ids, checks, approval, _expires_in(enforced), observed,
                    grant_for=_grant_for(enforced), review=review)


def _grant_for(enforced: Sequence[Rule]) -> int | None:
    """The shortest `grantFor` window, only when every enforced matching rule gives one: a rule
    without it still wants a human for each action."""
    windows = [rule.grant_for for rule in enforced]
    if not windows or any(w is None for w in windows):
        return None
    return min(w for w in windows if w is not None)


def _review(rules: Sequence[ReviewRule], requires_evidence: bool) -> Review | None:
    """Combine the review keys of the matching rules (see `Review`); None when no rule sets any."""
    if not rules:
        return None
    quorum = [r for r in rules if r.quorum]
    asked = {r.on_expire for r in rules if r.on_expire is not None}
    on_expire = next((o for o in EXPIRY_CAUTION if o in asked), "expire")
    if on_expire == "approve" and requires_evidence:
        on_expire = "expire"  # another rule requires evidence: never approve unchecked
    edits = [r.allow_edit for r in rules if r.allow_edit is not None]
    return Review(
        quorum=bool(quorum),
        approvals=max((r.approvals or 1 for r in quorum), default=1),
        approvers=tuple(dict.fromkeys(ref for r in rules for ref in r.approvers)),
        allow_edit=bool(edits) and all(edits),
        on_expire=on_expire,
        escalate_to=next((r.escalate_to for r in rules if r.on_expire == "escalate"), None),
    )


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
