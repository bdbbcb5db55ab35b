"""Expiry: pending actions not decided within their ``expiresIn`` meet their rule's ``onExpire``.

``expire`` (the default) marks them expired; ``reject`` and ``approve`` decide them as the system
(``system:expiry``); ``escalate`` re-opens the approval once to the ``escalateTo`` group with a new
deadline as long as the first, dropping approvals counted so far (the group decides afresh), and
emits ``action.escalated``; the second deadline expires it. Any number of workers may run it:
each claims overdue rows with ``FOR UPDATE SKIP LOCKED`` and re-checks under the lock, so each
outcome happens exactly once, its history row and event written in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.after_commit import atomic
from app.core.clock import isoformat_z, utcnow
from models.governance import Action, Approval
from models.reviewers import ReviewerGroup
from resolvers.agents import counters
from resolvers.audit import trail
from resolvers.context import Services
from resolvers.events.outbox import emit
from resolvers.governance.approvers import eligible_keys
from resolvers.governance.records import announce, audit_after, audit_changes, event_data, history_row

BATCH_SIZE = 100
SYSTEM = "system:expiry"
REASON = "nobody decided before the deadline (onExpire: reject)"


async def expire_due(services: Services) -> int:
    """Apply the expiry outcome to one batch of overdue actions; returns how many."""
    now = utcnow()
    async with atomic() as conn:
        query = Action.filter(status="pending_approval", expires_at__lt=now).order_by("expires_at").limit(BATCH_SIZE)
        if not services.settings.is_sqlite:
            query = query.select_for_update(skip_locked=True)
        due = await query.using_db(conn)
        for action in due:
            outcome = outcome_of(action)
            if outcome == "escalate":
                await _escalate(services, action, now, conn)
            else:
                await _close(services, action, outcome, now, conn)
    return len(due)


def outcome_of(action: Action) -> str:
    """What this deadline does: an escalation happens once, its second deadline expires."""
    outcome = str((action.review or {}).get("onExpire") or "expire")
    if outcome == "escalate" and action.escalated_at is not None:
        return "expire"
    return outcome


async def _close(services: Services, action: Action, outcome: str, now: datetime, conn: Any,
                 note: str | None = None) -> None:
    status = {"reject": "rejected", "approve": "approved"}.get(outcome, "expired")
    before = audit_after(action)
    action.status, action.decided_at, action.decided_by = status, now, SYSTEM
    action.reason = REASON if status == "rejected" else action.reason
    await action.save(using_db=conn, update_fields=["status", "decided_at", "decided_by", "reason"])
    await counters.decided(action, conn)  # its agent's pending count, in this transaction
    await Approval.filter(action_id=action.id, status="pending").using_db(conn).update(
        status=status, decided_at=now, decided_by=None, reason=action.reason if status == "rejected" else None
    )
    detail: dict[str, Any] | None = {"onExpire": outcome} if outcome != "expire" else None
    if note is not None:
        detail = {**(detail or {}), "note": note}
    await history_row(action, status, SYSTEM, detail).save(using_db=conn)
    await trail.record(trail.Actor.system(action.organization_id, SYSTEM), f"action.{status}", action.id,
                       audit_changes(before, action, **(detail or {})), conn)
    await announce(services, action)


async def _escalate(services: Services, action: Action, now: datetime, conn: Any) -> None:
    review = dict(action.review or {})
    group = review.get("escalateTo")
    if group and not await ReviewerGroup.filter(organization_id=action.organization_id, id=group).exists():
        # deleted since (its rule changed first, or no group could be deleted): nobody could decide
        await _close(services, action, "expire", now, conn, note=f"its escalateTo group {group} no longer exists")
        return
    window = (action.expires_at or now) - action.created_at
    review["eligible"] = await eligible_keys(action.organization_id, [group] if group else [])
    dropped = [vote["keyId"] for vote in action.votes or []]
    action.review, action.votes, action.escalated_at = review, [], now
    action.expires_at = now + window
    await action.save(using_db=conn, update_fields=["review", "votes", "escalated_at", "expires_at"])
    detail = {"escalateTo": group, "expiresAt": isoformat_z(action.expires_at), "approvalsDropped": dropped}
    await history_row(action, "escalated", SYSTEM, detail).save(using_db=conn)
    await trail.record(trail.Actor.system(action.organization_id, SYSTEM), "action.escalated", action.id,
                       {"detail": trail.plain(detail)}, conn)
    await emit(services, action.organization_id, "action.escalated",
               {**event_data(services, action), "escalateTo": group, "approvers": review["eligible"]})
