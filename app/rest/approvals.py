"""REST: approvals (document 001's paths) and the SDK's ``/approve/{actionId}``, ``/reject/{actionId}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.core.clock import isoformat_z
from app.rest.actions import serialise_action
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.governance import Approval
from resolvers.governance import approvals

TAGS = ["approvals"]
MAX_TEXT = approvals.MAX_TEXT


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approver: str | None = Field(None, max_length=200)
    comment: str | None = Field(None, max_length=MAX_TEXT)
    params: dict[str, Any] | None = Field(
        None, description="Edited params to approve instead of the proposed ones (rules with allowEdit: true); an MCP "
                          "gateway call's must satisfy its tool's input schema (400 VALIDATION_ERROR, nothing changed)"
    )
    expectedParams: dict[str, Any] | None = Field(
        None, description="The params the reviewer was shown: 409 CONFLICT, nothing counted, when the action's "
                          "params are no longer these (another reviewer edited them meanwhile)"
    )


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=MAX_TEXT)
    approver: str | None = Field(None, max_length=200)


def serialise_approval(approval: Approval, reader: str | None) -> dict[str, Any]:
    """An approval with its action (loaded with it, never one query per row), as `reader` sees it."""
    return {
        "id": approval.id,
        "approvalId": approval.id,
        "actionId": approval.action_id,
        "status": approval.status,
        "decidedBy": approval.decided_by,
        "approver": approval.approver,
        "reason": approval.reason,
        "comment": approval.comment,
        "createdAt": isoformat_z(approval.created_at),
        "decidedAt": isoformat_z(approval.decided_at),
        "action": serialise_action(approval.action, reader),
    }


@endpoint("GET", "/approvals/pending", summary="Actions awaiting manual approval", tags=TAGS, query=ListQuery,
          scopes=("approvals:read",), also_at_root=True)
async def list_pending(call: RestCall) -> Response:
    page = await approvals.list_pending(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, lambda a: serialise_approval(a, call.ctx.key_id))


@endpoint("GET", "/approvals/{approvalId}", summary="Get an approval", tags=TAGS, also_at_root=True)
async def get_approval(call: RestCall) -> dict[str, Any]:
    approval = await approvals.get(call.ctx, call.path["approvalId"])
    await approval.fetch_related("action")
    return serialise_approval(approval, call.ctx.key_id)


@endpoint("POST", "/approvals/{approvalId}/approve", summary="Approve a pending action", tags=TAGS,
          body=ApproveBody, scopes=("approvals:write",), also_at_root=True)
async def approve(call: RestCall) -> dict[str, Any]:
    body: ApproveBody = call.body
    approval = await approvals.approve(call.ctx, call.path["approvalId"], comment=body.comment,
                                       approver=body.approver, params=body.params,
                                       expected_params=body.expectedParams)
    return serialise_approval(approval, call.ctx.key_id)


@endpoint("POST", "/approvals/{approvalId}/reject", summary="Reject a pending action", tags=TAGS,
          body=RejectBody, scopes=("approvals:write",), also_at_root=True)
async def reject(call: RestCall) -> dict[str, Any]:
    body: RejectBody = call.body
    approval = await approvals.reject(call.ctx, call.path["approvalId"], reason=body.reason, approver=body.approver)
    return serialise_approval(approval, call.ctx.key_id)


@endpoint("POST", "/approve/{actionId}", summary="Approve an action (SDK style)", tags=TAGS, body=ApproveBody,
          scopes=("approvals:write",), also_at_root=True)
async def approve_by_action(call: RestCall) -> dict[str, Any]:
    body: ApproveBody = call.body
    approval = await approvals.approve_action(
        call.ctx, call.path["actionId"], comment=body.comment, approver=body.approver, params=body.params,
        expected_params=body.expectedParams,
    )
    return serialise_approval(approval, call.ctx.key_id)


@endpoint("POST", "/actions/{actionId}/approve", summary="Approve an action by its id (as /approvals/{id}/approve)",
          tags=TAGS, body=ApproveBody, scopes=("approvals:write",), also_at_root=True, errors=(409,))
async def approve_action_by_id(call: RestCall) -> dict[str, Any]:
    return await approve_by_action(call)


@endpoint("POST", "/actions/{actionId}/reject", summary="Reject an action by its id (as /approvals/{id}/reject)",
          tags=TAGS, body=RejectBody, scopes=("approvals:write",), also_at_root=True, errors=(409,))
async def reject_action_by_id(call: RestCall) -> dict[str, Any]:
    return await reject_by_action(call)


@endpoint("POST", "/reject/{actionId}", summary="Reject an action (SDK style)", tags=TAGS, body=RejectBody,
          scopes=("approvals:write",), also_at_root=True)
async def reject_by_action(call: RestCall) -> dict[str, Any]:
    body: RejectBody = call.body
    approval = await approvals.reject_action(
        call.ctx, call.path["actionId"], reason=body.reason, approver=body.approver
    )
    return serialise_approval(approval, call.ctx.key_id)
