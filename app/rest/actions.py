"""REST: actions at the root and under /api/v1, as document 001 shows them (and as the SDK calls)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint, json_response
from models.governance import Action
from models.notifications import Notification
from resolvers.governance import actions, cancelling, grants, review, waiting
from resolvers.governance.grants import grant_of
from resolvers.governance.inputs import ProposalIn
from resolvers.governance.records import actor_of
from resolvers.governance.records import decision_of as wire_decision
from resolvers.notifications import reads as notifications

TAGS = ["actions"]


class ActionListQuery(ListQuery):
    status: str | None = None
    type: str | None = Field(None, max_length=200)


class ActionGetQuery(BaseModel):
    """`wait` (0-60 s): long-poll until the action is decided, then answer it as it stands."""

    model_config = ConfigDict(extra="ignore")
    wait: int | None = Field(None, ge=0, le=waiting.MAX_WAIT_SECONDS,
                             description=f"seconds to wait for a decision (0-{waiting.MAX_WAIT_SECONDS})")


class ConsumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    params: dict[str, Any] = Field(default_factory=dict, description="the params the executor is about to use")


class GrantOut(BaseModel):
    status: str = Field(description="none (not approved), active (usable once) or consumed")
    hash: str | None = Field(None, description="hex SHA-256 of organization, type, target and effective params")
    consumedAt: str | None = None
    consumedBy: str | None = None


class ConsumeOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    actionId: str
    status: str
    grant: GrantOut


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
    return wire_decision(action)


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


def serialise_action(action: Action, reader: str | None) -> dict[str, Any]:
    """The full action: what was proposed, the decision, and who made it when; `decisionBarred`
    says why the key reading it (`reader`) may not decide it, as GraphQL's Action does on every read."""
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
        "metadata": action.metadata,
        "grant": grant_of(action).to_wire(),
        "proposedBy": action.proposed_by,
        "originalParams": action.original_params,
        "review": review.summary(action),
        "decisionBarred": review.barred(action, reader),
    }


@endpoint("POST", "/actions", summary="Propose an action", tags=TAGS, body=ProposalIn,
          scopes=("actions:write",), response=ProposalOut, status=201, also_at_root=True)
async def propose_action(call: RestCall) -> Response:
    key = call.request.headers.get("idempotency-key")
    proposal = await actions.propose(call.ctx, call.body, idempotency_key=key)
    return json_response(serialise_proposal(proposal.action), 200 if proposal.replayed else 201)


@endpoint("GET", "/actions/{id}", summary="Get an action; with `wait`, once it is decided (long-poll)", tags=TAGS,
          query=ActionGetQuery, scopes=("actions:read",), also_at_root=True)
async def get_action(call: RestCall) -> dict[str, Any]:
    q: ActionGetQuery = call.query
    if q.wait is None:
        action = await actions.get(call.ctx, call.path["id"])
    else:
        action = await waiting.get_when_decided(call.ctx, call.path["id"], q.wait)
    return serialise_action(action, call.ctx.key_id)


@endpoint("POST", "/actions/{id}/consume", summary="Use an approved action's single-use grant", tags=TAGS,
          body=ConsumeIn, scopes=("actions:write",), response=ConsumeOut, also_at_root=True, errors=(409,))
async def consume_grant(call: RestCall) -> dict[str, Any]:
    action = await grants.consume(call.ctx, call.path["id"], call.body.model_dump())
    return {"actionId": action.id, "status": action.status, "grant": grant_of(action).to_wire()}


@endpoint("GET", "/actions", summary="List actions", tags=TAGS, query=ActionListQuery,
          scopes=("actions:read",), also_at_root=True)
async def list_actions(call: RestCall) -> Response:
    q: ActionListQuery = call.query
    page = await actions.list_actions(call.ctx, status=q.status, type=q.type, limit=q.limit, cursor=q.cursor)
    return list_response(call.request, page.items, page.next_cursor, lambda a: serialise_action(a, call.ctx.key_id))


class NotificationOut(BaseModel):
    id: str
    actionId: str
    event: str
    connectorId: str
    connectorAction: str
    policyId: str
    status: str = Field(description="pending (to be sent or retried), sent or failed (given up)")
    attempts: int
    nextAttemptAt: str | None
    lastError: str | None
    lastCallId: str | None = Field(description="the connector call of the last attempt (its call log)")
    sentAt: str | None
    createdAt: str | None


def serialise_notification(row: Notification) -> dict[str, Any]:
    return {
        "id": row.id, "actionId": row.action_id, "event": row.event_type, "connectorId": row.connector_id,
        "connectorAction": row.connector_action, "policyId": row.policy_id, "status": row.status,
        "attempts": row.attempts,
        "nextAttemptAt": isoformat_z(notifications.next_attempt_of(row)),
        "lastError": row.last_error, "lastCallId": row.last_call_id, "sentAt": isoformat_z(row.sent_at),
        "createdAt": isoformat_z(row.created_at),
    }


@endpoint("GET", "/actions/{id}/notifications", summary="The notices sent to a policy's notify connectors",
          tags=TAGS, response=list[NotificationOut])
async def list_notifications(call: RestCall) -> list[dict[str, Any]]:
    return [serialise_notification(row) for row in await notifications.for_action(call.ctx, call.path["id"])]


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=10_000, description="Why the proposer withdraws it")


@endpoint("POST", "/actions/{id}/cancel", summary="Withdraw a pending action (only the key that proposed it, "
          "or an admin key)", tags=TAGS, body=CancelBody, scopes=("actions:write",), also_at_root=True, errors=(409,))
async def cancel_action(call: RestCall) -> dict[str, Any]:
    body: CancelBody = call.body
    return serialise_action(await cancelling.cancel(call.ctx, call.path["id"], reason=body.reason), call.ctx.key_id)
