"""REST: `GET /actions/{id}/explain`, why an action was decided, at the policy versions that decided it."""

from __future__ import annotations

from typing import Any

from app.rest.policies import serialise_decision
from app.rest.routing import RestCall, endpoint
from resolvers.governance.explain import RuleExplanation
from resolvers.governance.explanations import ActionExplanation, explain_action

TAGS = ["actions"]


def serialise_rule(rule: RuleExplanation) -> dict[str, Any]:
    return {
        "index": rule.rule_index, "mode": rule.mode, "matched": rule.matched, "failedOn": rule.failed_on,
        "conditions": [{"field": c.field, "expected": c.expected, "actual": c.actual, "holds": c.holds}
                       for c in rule.conditions],
        "effect": rule.effect, "outcome": rule.outcome,
    }


def serialise_explanation(found: ActionExplanation) -> dict[str, Any]:
    rules = found.explanation.rules
    return {
        "actionId": found.action.id,
        "status": found.action.status,
        "decidedBy": found.action.decided_by,
        "policySetId": found.action.policy_set_id,
        "decision": serialise_decision(found.explanation.decision),
        "policies": [
            {"policyId": v.policy_id, "version": v.number, "currentVersion": found.current_versions.get(v.policy_id),
             "name": v.name, "mode": v.mode,
             "rules": [serialise_rule(r) for r in rules if r.policy_id == v.policy_id]}
            for v in found.versions
        ],
    }


@endpoint("GET", "/actions/{id}/explain", summary="Why an action was decided: every rule of the policy versions in "
          "force then, matched or not and on which condition", tags=TAGS, also_at_root=True, errors=(409,))
async def explain(call: RestCall) -> dict[str, Any]:
    return serialise_explanation(await explain_action(call.ctx, call.path["id"]))
