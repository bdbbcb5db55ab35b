"""Loading a pending action for a change, and closing its approval when it is decided.

Evidence, approvals and expiry all change a pending action; each locks the row first (PostgreSQL
``FOR UPDATE``) so two concurrent changes are applied one after the other, never interleaved.
"""

from __future__ import annotations

from typing import Any

from app.core.clock import utcnow
from models.governance import Action, Approval
from resolvers.agents import counters
from resolvers.audit import trail
from resolvers.context import Context, Services
from resolvers.errors import Conflict
from resolvers.governance.records import announce, audit_after, audit_changes, history_row
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


async def close_without_review(services: Services, who: trail.Who, action: Action, status: str, by: str | None,
                               reason: str | None, conn: Any) -> None:
    """Decide a pending (locked) action that no reviewer decided: withdrawn by its proposer or with
    its workflow execution (`cancelled`), or refused with its agent's kill switch (`rejected`). Its
    approval is closed, and its history, audit entry and event (`action.<status>`) say why."""
    before = audit_after(action)
    action.status, action.reason = status, reason  # type: ignore[assignment]
    await save_decided(action, by, conn)
    await close_approval(action, by, conn, reason=reason)
    await history_row(action, status, by, {"reason": reason} if reason else {}).save(using_db=conn)
    await trail.record(who, f"action.{status}", action.id, audit_changes(before, action), conn)
    await announce(services, action)
