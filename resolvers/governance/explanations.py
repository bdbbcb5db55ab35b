"""Explaining a stored action: its recorded policy versions, replayed through ``explain``.

The action points at the set of active policy versions its proposal was decided with (cache.py);
those versions are read as they were, so an explanation never changes when a policy does. The
facts are the action as proposed: an approver's edit (``originalParams``) does not rewrite why it
was decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from models.governance import Action, Policy, PolicySet, PolicyVersion
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Conflict
from resolvers.governance.engine import ActionFacts, PolicySpec
from resolvers.governance.explain import Explanation, explain
from resolvers.governance.rules import validate_rules
from resolvers.lookup import owned

# The columns the engine reads of a stored action (backtest.py loads only these).
FACT_COLUMNS: Final = ("type", "actor_kind", "actor_name", "actor_provider", "target", "params", "original_params",
                       "agent_id", "actor_verified")


def facts_of_row(values: tuple[Any, ...]) -> ActionFacts:
    """An action's facts from FACT_COLUMNS values: the params as proposed, before any approver's edit."""
    kind_, kind, name, provider, target, params, original, agent_id, verified = values
    return ActionFacts(kind_, kind, name, provider, target, original if original is not None else (params or {}),
                       agent_id, bool(verified))


@dataclass(frozen=True, slots=True)
class ActionExplanation:
    """An action, the policy versions in force when it was decided (in evaluation order), each
    policy's current version number, and the engine's explanation."""

    action: Action
    versions: list[PolicyVersion]
    current_versions: dict[str, int]
    explanation: Explanation


async def explain_action(ctx: Context, action_id: str) -> ActionExplanation:
    """Why `action_id` was decided as it was (scopes actions:read and policies:read)."""
    require(ctx, "actions:read")
    require(ctx, "policies:read")
    action = await owned(Action, ctx, action_id, "action")
    if action.policy_set_id is None:
        raise Conflict(f"no policy decided action {action.id} (decided by {action.decided_by or 'nobody yet'}), "
                       "or it was proposed before policy versions were recorded")
    versions = await _versions(ctx, action.policy_set_id)
    specs = [PolicySpec(v.policy_id, v.mode, validate_rules(v.rules)) for v in versions]  # type: ignore[arg-type]
    facts = facts_of_row(tuple(getattr(action, column) for column in FACT_COLUMNS))
    policies = await Policy.filter(organization_id=ctx.organization_id, id__in=[v.policy_id for v in versions])
    return ActionExplanation(action, versions, {p.id: p.version for p in policies}, explain(specs, facts))


async def _versions(ctx: Context, set_id: str) -> list[PolicyVersion]:
    """The set's versions in its order (a version is never deleted while its policy exists)."""
    found = await PolicySet.get_or_none(id=set_id, organization_id=ctx.organization_id)
    if found is None:
        raise Conflict(f"the policy versions of set {set_id} are not recorded")
    wanted = [(str(pid), int(number)) for pid, number in found.versions]
    rows = await PolicyVersion.filter(organization_id=ctx.organization_id, policy_id__in=[p for p, _ in wanted],
                                      number__in=sorted({n for _, n in wanted}))
    by_key = {(row.policy_id, row.number): row for row in rows}
    return [by_key[key] for key in wanted if key in by_key]
