"""Loading a pending action for a change, and closing its approval when it is decided.

Evidence, approvals and expiry all change a pending action; each locks the row first (PostgreSQL
``FOR UPDATE``) so two concurrent changes are applied one after the other, never interleaved.
"""

from __future__ import annotations

from typing import Any

from app.core.clock import utcnow
from models.governance import Action, Approval
from resolvers.agents import counters
from resolvers.context import Context
from resolvers.errors import Conflict
from resolvers.lookup import owned


async def locked_action(ctx: Context, action_id: str, conn: Any) -> Action:
    """The caller's action, locked for this transaction; NotFound for anyone else's."""
    return await owned(Action, ctx, action_id, "action", conn=conn, lock=True)


def ensure_pending(action: Action) -> None:
    """Conflict unless the action still awaits a decision (an overdue one counts as expired)."""
    if action.status == "pending_approval" and action.expires_at is not None and action.expires_at <= utcnow():
        raise Conflict(f"action {action.id} has expired")
    if action.status != "pending_approval":
        raise Conflict(f"action {action.id} is {action.status}, not pending_approval")


async def close_approval(action: Action, by: str | None, conn: Any, **fields: Any) -> None:
    """Mirror the action's final status on its approval row."""
    status = "approved" if action.status == "approved" else action.status
    await Approval.filter(action_id=action.id, status="pending").using_db(conn).update(
        status=status, decided_by=by, decided_at=action.decided_at or utcnow(), **fields
    )


async def save_decided(action: Action, by: str | None, conn: Any) -> None:
    """Persist the action's status, checks and who decided; a decided action leaves its agent's
    pending count in the same transaction (resolvers/agents/counters.py)."""
    if action.status != "pending_approval":
        action.decided_at = utcnow()
        action.decided_by = by
    fields = ["status", "checks", "decided_at", "decided_by", "reason"]
    await action.save(using_db=conn, update_fields=fields)
    await counters.decided(action, conn)
