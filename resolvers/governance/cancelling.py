"""Cancelling: the proposer withdraws an action that still awaits a decision.

Only the key that proposed the action (or an admin key) may withdraw it; the action becomes
``cancelled`` with its approval, a history row and the ``action.cancelled`` event, in one
transaction, under the same row lock as approvals, so a cancel and an approval never both win.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.after_commit import atomic
from models.governance import Action, ActionHistory
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Forbidden, Invalid
from resolvers.governance.lifecycle import close_without_review, ensure_pending, locked_action
from resolvers.governance.records import decider

MAX_REASON = 10_000


async def _proposed_by(action: Action) -> str | None:
    """The proposing key: on the action since reviews need it, in its history before that."""
    if action.proposed_by is not None:
        return action.proposed_by
    row = await ActionHistory.filter(action_id=action.id, kind="proposed").first()
    return row.by if row is not None else None


def _may_cancel_any(ctx: Context) -> bool:
    """An admin key may withdraw any key's action; one bound to an agent governs nothing, admin or
    not (resolvers/access.GOVERNING_SCOPES): it withdraws only its own."""
    return "admin" in ctx.scopes and ctx.agent_id is None


async def cancel(ctx: Context, action_id: str, *, reason: str | None = None) -> Action:
    """Withdraw a pending action (409 once it is decided; 403 for another key's action)."""
    require(ctx, "actions:write")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON or "\x00" in reason):
        raise Invalid(f"reason: must be a string of at most {MAX_REASON} characters")
    async with atomic() as conn:
        action = await locked_action(ctx, action_id, conn)
        if not _may_cancel_any(ctx) and await _proposed_by(action) != ctx.key_id:
            raise Forbidden("only the key that proposed this action may cancel it")
        ensure_pending(action)
        await close_without_review(ctx.services, ctx, action, "cancelled", decider(ctx), reason, conn)
    return action



async def withdraw_waited(ctx: Context, action_id: str, execution_id: str, conn: BaseDBAsyncClient) -> bool:
    """Withdraw the action an execution's approval step waits for, if it still awaits a decision, in
    the transaction that cancels the execution: nothing waits for it any more, so no reviewer should
    be asked to decide it (an approval would start the workflows it triggers for nothing)."""
    action = await Action.filter(id=action_id, organization_id=ctx.organization_id).select_for_update().using_db(
        conn).first()
    if action is None or action.status != "pending_approval":
        return False
    reason = f"its workflow execution {execution_id} was cancelled"
    await close_without_review(ctx.services, ctx, action, "cancelled", decider(ctx), reason, conn)
    return True
