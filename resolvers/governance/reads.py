"""Batch reads for GraphQL DataLoaders: one query for many actions, answers in key order.

Every read is scoped to the caller's organization, so a batch can never leak another tenant's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from models.governance import Action, ActionHistory, Approval, Policy
from resolvers.access import require
from resolvers.context import Context


async def actions_by_id(ctx: Context, ids: Sequence[str]) -> list[Action | None]:
    require(ctx, "actions:read")
    rows = {a.id: a for a in await Action.filter(organization_id=ctx.organization_id, id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def approvals_by_action(ctx: Context, action_ids: Sequence[str]) -> list[Approval | None]:
    require(ctx, "approvals:read")
    query = Approval.filter(organization_id=ctx.organization_id, action_id__in=list(action_ids))
    rows = {a.action_id: a for a in await query}
    return [rows.get(i) for i in action_ids]


async def history_by_action(ctx: Context, action_ids: Sequence[str]) -> list[list[ActionHistory]]:
    require(ctx, "actions:read")
    query = ActionHistory.filter(organization_id=ctx.organization_id, action_id__in=list(action_ids))
    grouped: dict[str, list[ActionHistory]] = defaultdict(list)
    for row in await query.order_by("created_at", "id"):
        grouped[row.action_id].append(row)
    return [grouped.get(i, []) for i in action_ids]


async def policies_by_id(ctx: Context, ids: Sequence[str]) -> list[Policy | None]:
    require(ctx, "policies:read")
    rows = {p.id: p for p in await Policy.filter(organization_id=ctx.organization_id, id__in=list(ids))}
    return [rows.get(i) for i in ids]
