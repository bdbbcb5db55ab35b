"""Approvals: the human decision on a pending action.

Approving needs every required check passed (else 409) and happens once; rejecting is allowed at
any time while the action is pending, with a reason. Who decided is the API key's id; the public
SDK's free-form ``approver`` name is kept beside it.
"""

from __future__ import annotations

from typing import Any

from app.core.after_commit import atomic
from models.governance import Action, Approval
from resolvers.access import require
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid, NotFound
from resolvers.events.outbox import emit
from resolvers.governance import review
from resolvers.governance.engine import can_approve
from resolvers.governance.lifecycle import close_approval, ensure_pending, locked_action, save_decided
from resolvers.governance.records import (
    announce,
    audit_after,
    audit_changes,
    checks_of,
    decider,
    event_data,
    history_row,
)
from resolvers.lookup import lookup_id, owned
from resolvers.mcp.arguments import check_edited
from resolvers.pagination import Page, paginate

MAX_TEXT = 10_000
MAX_APPROVER = 200  # the column's width


async def get(ctx: Context, approval_id: str) -> Approval:
    require(ctx, "approvals:read")
    return await owned(Approval, ctx, approval_id, "approval")


async def for_action(ctx: Context, action_id: str) -> Approval:
    """The approval of an action (the SDK addresses approvals by action id)."""
    require(ctx, "approvals:read")
    approval = await Approval.get_or_none(action_id=lookup_id(action_id, "action"), organization_id=ctx.organization_id)
    if approval is None:
        if await Action.exists(id=action_id, organization_id=ctx.organization_id):
            raise Conflict(f"action {action_id} does not await approval")
        raise NotFound(f"action {action_id} not found")
    return approval


async def list_pending(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[Approval]:
    require(ctx, "approvals:read")
    query = Approval.filter(organization_id=ctx.organization_id, status="pending")
    return await paginate(query.select_related("action"), limit, cursor)


def _text(value: Any, name: str, limit: int = MAX_TEXT) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > limit or "\x00" in value):
        raise Invalid(f"{name}: must be a string of at most {limit} characters")
    return value


async def approve(
    ctx: Context, approval_id: str, *, comment: str | None = None, approver: str | None = None,
    params: Any = None, expected_params: Any = None,
) -> Approval:
    """Approve once every required check has passed (409 otherwise, or when already decided).

    Under a rule with ``approvals``/``approvers`` this counts one key's approval and decides only
    when enough distinct keys have approved; ``params`` edits the action where the rule allows it.
    ``expected_params``, the params the reviewer was shown, makes it 409 with nothing counted when
    the action's params are no longer those (another reviewer's edit meanwhile)."""
    require(ctx, "approvals:write")
    comment, approver = _text(comment, "comment"), _text(approver, "approver", MAX_APPROVER)
    if expected_params is not None and not isinstance(expected_params, dict):
        raise Invalid("expectedParams: must be an object (the params the reviewer was shown)")
    return await _decide(ctx, approval_id, "approved", params, expected_params, comment=comment, approver=approver)


async def reject(
    ctx: Context, approval_id: str, *, reason: str | None = None, approver: str | None = None
) -> Approval:
    """Reject a pending action, whatever its checks, with a reason (409 once decided or expired).
    One rejection decides, whatever approvals were counted before it."""
    require(ctx, "approvals:write")
    reason, approver = _text(reason, "reason"), _text(approver, "approver", MAX_APPROVER)
    return await _decide(ctx, approval_id, "rejected", None, None, reason=reason, approver=approver)


async def approve_action(
    ctx: Context, action_id: str, *, comment: str | None = None, approver: str | None = None,
    params: Any = None, expected_params: Any = None,
) -> Approval:
    """`approve`, addressed by action id as the public SDK does (409 if it never awaited approval).
    The scope first: a key that may not decide learns nothing about the action (403, not 404/409)."""
    require(ctx, "approvals:write")
    approval = await for_action(ctx, action_id)
    return await approve(ctx, approval.id, comment=comment, approver=approver, params=params,
                         expected_params=expected_params)


async def reject_action(
    ctx: Context, action_id: str, *, reason: str | None = None, approver: str | None = None
) -> Approval:
    """`reject`, addressed by action id as the public SDK does (the scope first, as `approve_action`)."""
    require(ctx, "approvals:write")
    return await reject(ctx, (await for_action(ctx, action_id)).id, reason=reason, approver=approver)


async def _decide(ctx: Context, approval_id: str, verdict: str, params: Any, expected_params: Any,
                  **fields: str | None) -> Approval:
    approval = await get(ctx, approval_id)
    async with atomic() as conn:
        action = await locked_action(ctx, approval.action_id, conn)
        if approval.status != "pending" and action.status != "pending_approval":
            raise Conflict(f"approval {approval_id} is already {approval.status}")
        ensure_pending(action)
        review.check_may_decide(action, ctx.key_id)
        before = audit_after(action)
        detail: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        if verdict == "approved":
            _check_ready(action)
            if expected_params is not None and not review.same_params(action, expected_params):
                raise Conflict("the action's params changed since they were shown (another reviewer edited "
                               "them): read the action again and review its current params")
            if params is not None and not review.same_params(action, params):
                edited = review.check_edit(action, params)
                await check_edited(action, edited, conn)  # a gateway call's edit, against its tool's schema
                detail |= review.apply_edit(action, edited)
            if not review.record_vote(action, ctx.key_id, fields.get("comment"), fields.get("approver")):
                return await Approval.get(id=approval_id).select_related("action")  # counted once already
            if review.remaining(action) > 0:
                await _save_vote(ctx, action, conn, detail, before)
                return await Approval.get(id=approval_id).select_related("action")
        action.status = verdict
        action.reason = fields.get("reason")  # type: ignore[assignment]
        await action.save(using_db=conn, update_fields=["params", "original_params", "votes"])
        await save_decided(action, decider(ctx), conn)
        await close_approval(action, decider(ctx), conn, **fields)
        await history_row(action, verdict, decider(ctx), detail).save(using_db=conn)
        await trail.record(ctx, f"action.{verdict}", action.id, audit_changes(before, action, **detail), conn)
        await announce(ctx.services, action)
    return await Approval.get(id=approval_id).select_related("action")


def _check_ready(action: Action) -> None:
    if not can_approve(checks_of(action)):
        missing = [c.name for c in checks_of(action) if c.required and c.status != "passed"]
        raise Conflict(f"required checks have not all passed: {', '.join(missing)}")


async def _save_vote(ctx: Context, action: Action, conn: Any, detail: dict[str, Any], before: dict[str, Any]) -> None:
    """One approval counted, more needed: the action stays pending; the history says who and how many."""
    await action.save(using_db=conn, update_fields=["params", "original_params", "votes"])
    progress = {"approvalsReceived": len(action.votes or []), "approvalsRemaining": review.remaining(action)}
    detail = detail | progress
    await history_row(action, "approval_recorded", decider(ctx), detail).save(using_db=conn)
    await trail.record(ctx, "action.approval_recorded", action.id, audit_changes(before, action, **detail), conn)
    # live consoles and subscribers see the count move, and an edit's new params, before the decision
    await emit(ctx.services, action.organization_id, "action.approval_recorded",
               {**event_data(ctx.services, action), **progress, "edited": "edited" in detail})
