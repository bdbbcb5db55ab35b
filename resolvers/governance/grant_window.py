"""`grantFor` windows: a human approval re-approves the same actor, type and target for a while.

When a proposal would wait and every matching rule gives `grantFor`, the newest action of the same
actor (kind, name, provider), type and target that a human approved within the window approves it
at once. Only human approvals open a window (an action approved by a window does not extend it).
Each use is recorded: the new action's history says `granted` (from which action), the approving
action's history says `grant_used` (by which action), and the new action's `action.approved` event
carries `grantedBy`.
"""

from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from models.governance import Action, ActionHistory
from resolvers.context import Context
from resolvers.governance.engine import Decision
from resolvers.governance.inputs import ProposalIn
from resolvers.governance.records import history_row

GRANT_PREFIX = "grant:"


async def standing_approval(ctx: Context, spec: ProposalIn, decision: Decision) -> Action | None:
    """The human approval whose window covers this proposal, if any."""
    if decision.status != "pending_approval" or decision.grant_for is None:
        return None
    since = utcnow() - timedelta(seconds=decision.grant_for)
    actor = spec.actor
    query = Action.filter(
        organization_id=ctx.organization_id, status="approved", type=spec.type, actor_kind=actor.kind,
        actor_name=actor.name, actor_provider=actor.provider, target=spec.target, decided_at__gte=since,
        decided_by__startswith="key_",
    )
    return await query.order_by("-decided_at").first()


def granted_by(action: Action) -> str | None:
    """The action whose window approved this one, or None."""
    by = action.decided_by or ""
    return by.removeprefix(GRANT_PREFIX) if by.startswith(GRANT_PREFIX) else None


def record_use(action: Action, standing: Action, by: str | None) -> list[ActionHistory]:
    """The two history rows of one use of a window (saved in the proposal's transaction)."""
    used = history_row(standing, "grant_used", by, {"actionId": action.id})
    return [history_row(action, "granted", by, {"grantedBy": standing.id}), used]
