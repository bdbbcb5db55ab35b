"""Reading an action's notifications: where each notice to each connector stands."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from models.governance import Action
from models.notifications import Notification
from resolvers.access import require
from resolvers.context import Context
from resolvers.lookup import owned


async def for_action(ctx: Context, action_id: str) -> list[Notification]:
    """Oldest first; NotFound for an action of another organization, like an absent one."""
    require(ctx, "actions:read")
    action = await owned(Action, ctx, action_id, "action")
    query = Notification.filter(organization_id=ctx.organization_id, action_id=action.id)
    return list(await query.order_by("created_at", "id"))


async def by_action(ctx: Context, action_ids: Sequence[str]) -> list[list[Notification]]:
    """Each action's notices, oldest first, in one query for a whole list (GraphQL's loader)."""
    require(ctx, "actions:read")
    query = Notification.filter(organization_id=ctx.organization_id, action_id__in=list(action_ids))
    grouped: dict[str, list[Notification]] = defaultdict(list)
    for row in await query.order_by("created_at", "id"):
        grouped[row.action_id].append(row)
    return [grouped.get(i, []) for i in action_ids]


def next_attempt_of(notice: Notification) -> datetime | None:
    """When it is tried next: only a pending notice will be (the column keeps its last time after)."""
    return notice.next_attempt_at if notice.status == "pending" else None
