"""GraphQL types for policy versions and their diffs, explained decisions and backtests.

Each mirrors the REST answer of the same resolver (app/rest/policy_versions.py, app/rest/explanations.py)
field for field, typed where the REST answer is a fixed shape and JSON where it is a rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from models.governance import PolicyVersion as VersionRow
from resolvers.governance.backtest import STATUSES, BacktestResult
from resolvers.governance.explain import RuleExplanation
from resolvers.governance.explanations import ActionExplanation as FoundExplanation
from schema.enums import ActionStatus, PolicyMode, PolicyStatus
from schema.governance.types import SimulatedDecision
from schema.wire import kept_in_wire_form


@strawberry.type(description="One state of a policy, kept when it was created or changed; never updated.")
class PolicyVersion:
    policy_id: strawberry.ID = strawberry.field(description="The policy's id (`pol_...`).")
    version: int = strawberry.field(description="The policy's `version` when it was in this state.")
    name: str = strawberry.field(description="Its name then.")
    description: str | None = strawberry.field(description="Its description then.")
    mode: PolicyMode = strawberry.field(description="Its mode then.")
    status: PolicyStatus = strawberry.field(description="Its status then.")
    rules: JSON = strawberry.field(description="Its rules then, normalised.")
    notify: JSON = strawberry.field(description="Its notify connectors then.")
    created_at: datetime = strawberry.field(description="When this version was made.")
    created_by: str | None = strawberry.field(description="The API key that made it; null for versions kept "
                                                          "by the upgrade that introduced versions.")

    @classmethod
    def from_row(cls, row: VersionRow) -> PolicyVersion:
        return cls(policy_id=strawberry.ID(row.policy_id), version=row.number, name=row.name,
                   description=row.description, mode=PolicyMode(row.mode), status=PolicyStatus(row.status),
                   rules=cast(JSON, row.rules), notify=cast(JSON, row.notify or []), created_at=row.created_at,
                   created_by=row.created_by)


@strawberry.type(description="A field whose value differs between two versions.")
class FieldChange:
    field: str = strawberry.field(description="`name`, `description`, `mode`, `status` or `notify`.")
    before: JSON | None = strawberry.field(description="Its value in the first version.")
    after: JSON | None = strawberry.field(description="Its value in the second version.")


@strawberry.type(description="A rule only one of two versions has, at its index there.")
class IndexedRule:
    index: int = strawberry.field(description="Its position in that version's rules.")
    rule: JSON = strawberry.field(description="The rule, normalised.")


@strawberry.type(description="A rule at the same index in both versions, with other content.")
class RuleChange:
    index: int = strawberry.field(description="Its position in both versions' rules.")
    before: JSON = strawberry.field(description="The rule in the first version.")
    after: JSON = strawberry.field(description="The rule in the second version.")


@strawberry.type(description="Rules compared position by position.")
class RulesDiff:
    added: list[IndexedRule] = strawberry.field(description="Rules only the second version has.")
    removed: list[IndexedRule] = strawberry.field(description="Rules only the first version has.")
    changed: list[RuleChange] = strawberry.field(description="Rules that differ at the same index.")


@strawberry.type(description="What changed from one version of a policy to another.")
class PolicyVersionDiff:
    policy_id: strawberry.ID = strawberry.field(description="The policy's id.")
    from_version: int = strawberry.field(name="from", description="The first version's number.")
    to_version: int = strawberry.field(name="to", description="The second version's number.")
    fields: list[FieldChange] = strawberry.field(description="The fields that differ.")
    rules: RulesDiff = strawberry.field(description="The rules added, removed and changed.")

    @classmethod
    def from_diff(cls, diff: dict[str, Any]) -> PolicyVersionDiff:
        rules = diff["rules"]
        return cls(
            policy_id=strawberry.ID(diff["policyId"]), from_version=diff["from"], to_version=diff["to"],
            fields=[FieldChange(field=name, before=cast(JSON, change["before"]), after=cast(JSON, change["after"]))
                    for name, change in diff["fields"].items()],
            rules=RulesDiff(
                added=[IndexedRule(index=r["index"], rule=cast(JSON, r["rule"])) for r in rules["added"]],
                removed=[IndexedRule(index=r["index"], rule=cast(JSON, r["rule"])) for r in rules["removed"]],
                changed=[RuleChange(index=r["index"], before=cast(JSON, r["before"]), after=cast(JSON, r["after"]))
                         for r in rules["changed"]],
            ),
        )


@strawberry.type(description="One condition of a rule's `when`, checked against the action.")
class RuleCondition:
    field: str = strawberry.field(description="`actionType`, `actor.kind`, `actor.name`, `actor.provider`, "
                                              "`target`, `agentId`, `actor.verified` or `params.<path>`.")
    expected: JSON | None = strawberry.field(description="What the rule asks, as it writes it.")
    actual: JSON | None = strawberry.field(description="The action's value; null when absent.")
    holds: bool = strawberry.field(description="Whether the condition held.")


@strawberry.type(description="One rule of a policy version, checked against the action.")
class ExplainedRule:
    index: int = strawberry.field(description="Its position in the policy's rules.")
    mode: PolicyMode = strawberry.field(description="Its effective mode (its own, else its policy's).")
    matched: bool = strawberry.field(description="True when every condition held.")
    failed_on: str | None = strawberry.field(description="The first condition that did not hold; null if matched.")
    conditions: list[RuleCondition] = strawberry.field(description="Each condition of its `when`.")
    effect: JSON = strawberry.field(description="What it asks when it matches: the rule without `when`.")
    outcome: ActionStatus = strawberry.field(description="What it would decide alone, enforced.")

    @classmethod
    def from_rule(cls, rule: RuleExplanation) -> ExplainedRule:
        return cls(index=rule.rule_index, mode=PolicyMode(rule.mode), matched=rule.matched, failed_on=rule.failed_on,
                   conditions=[RuleCondition(field=c.field, expected=cast(JSON, c.expected),
                                             actual=cast(JSON, c.actual), holds=c.holds) for c in rule.conditions],
                   effect=cast(JSON, rule.effect), outcome=ActionStatus(rule.outcome))


@strawberry.type(description="A policy as it was when the action was decided.")
class ExplainedPolicy:
    policy_id: strawberry.ID = strawberry.field(description="The policy's id.")
    version: int = strawberry.field(description="The version that was in force.")
    current_version: int | None = strawberry.field(description="The policy's version today.")
    name: str = strawberry.field(description="Its name then.")
    mode: PolicyMode = strawberry.field(description="Its mode then.")
    rules: list[ExplainedRule] = strawberry.field(description="Every rule, matched or not.")


@strawberry.type(description="Why an action was decided: the policy versions in force then, rule by rule.")
class ActionExplanation:
    policy_set_id: str = strawberry.field(description="The recorded set of policy versions (`pset_...`).")
    decision: SimulatedDecision = strawberry.field(description="The decision those versions make for it.")
    policies: list[ExplainedPolicy] = strawberry.field(description="Each policy in force, in evaluation order.")

    @classmethod
    def from_found(cls, found: FoundExplanation) -> ActionExplanation:
        rules = found.explanation.rules
        return cls(
            policy_set_id=str(found.action.policy_set_id),
            decision=SimulatedDecision.from_decision(found.explanation.decision),
            policies=[ExplainedPolicy(policy_id=strawberry.ID(v.policy_id), version=v.number,
                                      current_version=found.current_versions.get(v.policy_id), name=v.name,
                                      mode=PolicyMode(v.mode),
                                      rules=[ExplainedRule.from_rule(r) for r in rules if r.policy_id == v.policy_id])
                      for v in found.versions],
        )



@strawberry.type(description="How many replayed actions got each decision.")
class DecisionCounts:
    approved: int = strawberry.field(description="Approved at once.")
    pending_approval: int = strawberry.field(description="Held for evidence or a human.")
    rejected: int = strawberry.field(description="Refused.")

    @classmethod
    def of(cls, counts: dict[str, int]) -> DecisionCounts:
        approved, pending, rejected = (counts.get(status, 0) for status in STATUSES)
        return cls(approved=approved, pending_approval=pending, rejected=rejected)


@strawberry.type(description="The rule that makes an action's decision differ.")
class ResponsibleRule:
    policy_id: str = strawberry.field(description="Its policy: a current policy's id, or `draft_<n>` for the "
                                                  "n-th draft added.")
    rule_index: int = strawberry.field(description="Its position in that policy's rules.")
    side: str = strawberry.field(description="`after`: a rule of the drafted set now holds the action; `before`: "
                                             "a rule of today's set held it and no longer does.")
    draft: bool = strawberry.field(description="True when the rule is a draft's.")


@strawberry.type(description="A recorded action whose decision the drafts would change.")
class BacktestChange:
    action_id: strawberry.ID = strawberry.field(description="The action's id.")
    type: str = strawberry.field(description="Its type.")
    before: ActionStatus = strawberry.field(description="Its decision under today's policies.")
    after: ActionStatus = strawberry.field(description="Its decision with the drafts applied.")
    rule: ResponsibleRule | None = strawberry.field(description="The rule responsible.")


@strawberry.type(description="Recorded actions replayed through today's policies and the drafts; nothing stored.")
class PolicyBacktest:
    actions: int = strawberry.field(description="How many actions were replayed.")
    before: DecisionCounts = strawberry.field(description="Decisions under today's policies.")
    after: DecisionCounts = strawberry.field(description="Decisions with the drafts applied.")
    changed: int = strawberry.field(description="How many actions' decisions differ.")
    truncated: bool = strawberry.field(description="True when `changes` lists fewer than `changed` (maxChanges).")
    changes: list[BacktestChange] = strawberry.field(description="The actions whose decision differs, oldest first.")

    @classmethod
    def from_result(cls, result: BacktestResult) -> PolicyBacktest:
        replay = result.replay
        changes = [
            BacktestChange(action_id=strawberry.ID(c.action_id), type=c.action_type, before=ActionStatus(c.before),
                           after=ActionStatus(c.after), rule=None if c.policy_id is None or c.rule_index is None else
                           ResponsibleRule(policy_id=c.policy_id, rule_index=c.rule_index, side=c.side,
                                           draft=result.by_draft(c)))
            for c in replay.changes
        ]
        return cls(actions=result.actions, before=DecisionCounts.of(replay.before),
                   after=DecisionCounts.of(replay.after), changed=replay.changed,
                   truncated=replay.changed > len(replay.changes), changes=changes)


@kept_in_wire_form
@strawberry.input(description="Draft policies and the window of recorded actions to replay them on.")
class PolicyBacktestInput:
    policies: JSON | None = strawberry.field(default=None, description="Draft policies, as `createPolicy` takes "
                                             "them; `replaces: \"pol_...\"` makes one stand in for that policy.")
    remove: list[str] | None = strawberry.field(default=None, description="Ids of current policies to leave out.")
    from_: datetime | None = strawberry.field(default=None, name="from", description="Actions proposed at or "
                                                                                    "after this time.")
    to: datetime | None = strawberry.field(default=None, description="Actions proposed before this time.")
    type: str | None = strawberry.field(default=None, description="Only actions of this type.")
    max_changes: int | None = strawberry.field(default=None, name="maxChanges", description="How many changed "
                                               "actions to list (0-10,000, default 1,000); all are counted.")
