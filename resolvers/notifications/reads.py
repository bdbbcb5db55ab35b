"""Reading an action's notifications: where each notice to each connector stands."""

from __future__ import annotations

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
