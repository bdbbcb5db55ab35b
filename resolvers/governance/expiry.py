"""Expiry: pending actions not decided within their ``expiresIn`` become ``expired``, exactly once.

Any number of workers may run it: each claims overdue rows with ``FOR UPDATE SKIP LOCKED`` and
re-checks the status under the lock, so a row claimed (or decided) by someone else is never expired
twice; the ``action.expired`` event is written in the same transaction.
"""

from __future__ import annotations

from app.core.after_commit import atomic
from app.core.clock import utcnow
from models.governance import Action, Approval
from resolvers.agents import counters
from resolvers.context import Services
from resolvers.governance.records import announce, history_row

BATCH_SIZE = 100
SYSTEM = "system:expiry"


async def expire_due(services: Services) -> int:
    """Expire one batch of overdue actions; returns how many."""
    now = utcnow()
    async with atomic() as conn:
        query = Action.filter(status="pending_approval", expires_at__lt=now).order_by("expires_at").limit(BATCH_SIZE)
        if not services.settings.is_sqlite:
            query = query.select_for_update(skip_locked=True)
        due = await query.using_db(conn)
        for action in due:
            action.status, action.decided_at, action.decided_by = "expired", now, SYSTEM
            await action.save(using_db=conn, update_fields=["status", "decided_at", "decided_by"])
            await counters.decided(action, conn)  # its agent's pending count, in this transaction
            await Approval.filter(action_id=action.id, status="pending").using_db(conn).update(
                status="expired", decided_at=now, decided_by=None
            )
            await history_row(action, "expired", SYSTEM).save(using_db=conn)
            await announce(services, action)
    return len(due)
