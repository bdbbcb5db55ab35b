"""REST: actions at the root and under /api/v1, as document 001 shows them (and as the SDK calls)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint, json_response
from models.governance import Action
from resolvers.governance import actions, cancelling
from resolvers.governance.inputs import ProposalIn
from resolvers.governance.records import actor_of, public_checks

TAGS = ["actions"]


class ActionListQuery(ListQuery):
    status: str | None = None
    type: str | None = Field(None, max_length=200)


class DecisionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: str
    checks: list[dict[str, Any]]


class ProposalOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    actionId: str
    status: str
    policyIds: list[str]
    decision: DecisionOut


def decision_of(action: Action) -> dict[str, Any]:
    return {"status": action.status, "checks": public_checks(action)}


def serialise_proposal(action: Action) -> dict[str, Any]:
    """Document 001's answer to a proposal, plus the approval to act on when pending."""
    return {
        "actionId": action.id,
        "status": action.status,
        "policyIds": action.policy_ids,
        "decision": decision_of(action),
        "approvalId": actions.approval_id_of(action),
        "expiresAt": isoformat_z(action.expires_at),
    }


def serialise_action(action: Action) -> dict[str, Any]:
    """The full action: what was proposed, the decision, and who made it when."""
    return {
        **serialise_proposal(action),
        "id": action.id,
        "type": action.type,
        "actor": actor_of(action),
        "target": action.target,
        "params": action.params,
        "approval": action.approval_mode,
        "decidedAt": isoformat_z(action.decided_at),
        "decidedBy": action.decided_by,
        "reason": action.reason,
        "clientId": action.client_ref,
        "agentId": action.agent_id,
        "timestamp": action.client_timestamp or isoformat_z(action.created_at),
        "createdAt": isoformat_z(action.created_at),
    }


@endpoint("POST", "/actions", summary="Propose an action", tags=TAGS, body=ProposalIn, response=ProposalOut,
          status=201, also_at_root=True)
async def propose_action(call: RestCall) -> Response:
    key = call.request.headers.get("idempotency-key")
    proposal = await actions.propose(call.ctx, call.body, idempotency_key=key)
    return json_response(serialise_proposal(proposal.action), 200 if proposal.replayed else 201)


@endpoint("GET", "/actions/{id}", summary="Get an action", tags=TAGS, also_at_root=True)
async def get_action(call: RestCall) -> dict[str, Any]:
    return serialise_action(await actions.get(call.ctx, call.path["id"]))


@endpoint("GET", "/actions", summary="List actions", tags=TAGS, query=ActionListQuery, also_at_root=True)
async def list_actions(call: RestCall) -> Response:
    q: ActionListQuery = call.query
    page = await actions.list_actions(call.ctx, status=q.status, type=q.type, limit=q.limit, cursor=q.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_action)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=10_000, description="Why the proposer withdraws it")


@endpoint("POST", "/actions/{id}/cancel", summary="Withdraw a pending action (only the key that proposed it, "
          "or an admin key)", tags=TAGS, body=CancelBody, also_at_root=True, errors=(409,))
async def cancel_action(call: RestCall) -> dict[str, Any]:
    body: CancelBody = call.body
    return serialise_action(await cancelling.cancel(call.ctx, call.path["id"], reason=body.reason))
