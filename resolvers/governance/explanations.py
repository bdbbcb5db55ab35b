"""Explaining a stored action: its recorded policy versions, replayed through ``explain``.

The action points at the set of active policy versions its proposal was decided with (cache.py);
those versions are read as they were, so an explanation never changes when a policy does. The
facts are the action as proposed: an approver's edit (``originalParams``) does not rewrite why it
was decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from models.governance import Action, Policy, PolicySet, PolicyVersion
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Conflict, DomainError, NotFound
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
    found = (await _explained(ctx, [action]))[0]
    if isinstance(found, DomainError):
        raise found
    return found


async def explain_actions(ctx: Context, action_ids: Sequence[str]) -> list[ActionExplanation | DomainError]:
    """`explain_action` for many actions in four queries whatever their number (GraphQL lists):
    each answer in key order, or the error that action alone gets (NotFound, Conflict)."""
    require(ctx, "actions:read")
    require(ctx, "policies:read")
    rows = {a.id: a for a in await Action.filter(organization_id=ctx.organization_id, id__in=list(action_ids))}
    found = [rows.get(i) for i in action_ids]
    explained = iter(await _explained(ctx, [a for a in found if a is not None]))
    return [next(explained) if a is not None else NotFound(f"action {i} not found")
            for i, a in zip(action_ids, found, strict=True)]


async def _explained(ctx: Context, actions: list[Action]) -> list[ActionExplanation | DomainError]:
    set_ids = sorted({a.policy_set_id for a in actions if a.policy_set_id is not None})
    versions_of = await _versions_of_sets(ctx, set_ids) if set_ids else {}
    policy_ids = {v.policy_id for versions in versions_of.values() for v in versions}
    current = {p.id: p.version for p in await Policy.filter(organization_id=ctx.organization_id,
                                                             id__in=sorted(policy_ids))} if policy_ids else {}
    answers: list[ActionExplanation | DomainError] = []
    for action in actions:
        if action.policy_set_id is None:
            answers.append(Conflict(f"no policy decided action {action.id} (decided by "
                                    f"{action.decided_by or 'nobody yet'}), or it was proposed before policy "
                                    "versions were recorded"))
        elif action.policy_set_id not in versions_of:
            answers.append(Conflict(f"the policy versions of set {action.policy_set_id} are not recorded"))
        else:
            versions = versions_of[action.policy_set_id]
            specs = [PolicySpec(v.policy_id, v.mode, validate_rules(v.rules, stored=True))  # type: ignore[arg-type]
                     for v in versions]
            facts = facts_of_row(tuple(getattr(action, column) for column in FACT_COLUMNS))
            mine = {v.policy_id: current[v.policy_id] for v in versions if v.policy_id in current}
            answers.append(ActionExplanation(action, versions, mine, explain(specs, facts)))
    return answers


async def _versions_of_sets(ctx: Context, set_ids: list[str]) -> dict[str, list[PolicyVersion]]:
    """Each recorded set's versions in its order (a version is never deleted while its policy exists)."""
    sets = await PolicySet.filter(organization_id=ctx.organization_id, id__in=set_ids)
    wanted = {found.id: [(str(pid), int(number)) for pid, number in found.versions] for found in sets}
    keys = {key for pairs in wanted.values() for key in pairs}
    rows = await PolicyVersion.filter(organization_id=ctx.organization_id, policy_id__in=sorted({p for p, _ in keys}),
                                      number__in=sorted({n for _, n in keys})) if keys else []
    by_key = {(row.policy_id, row.number): row for row in rows}
    return {set_id: [by_key[key] for key in pairs if key in by_key] for set_id, pairs in wanted.items()}
