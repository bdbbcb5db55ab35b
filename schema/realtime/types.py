"""GraphQL types of the live feeds, built from an event envelope alone.

Every payload is made from the committed event (its data snapshot), never from a database read,
so one event yields one payload that every subscriber of the same document shares.
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON


@strawberry.type(description="The action as its event describes it.")
class ActionSnapshot:
    id: strawberry.ID
    type: str | None
    status: str | None
    actor: JSON | None
    params: JSON | None
    decision: JSON | None
    approval_url: str | None
    proposed_at: str | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ActionSnapshot:
        return cls(
            id=strawberry.ID(str(data.get("actionId") or "")),
            type=data.get("type"),
            status=data.get("status"),
            actor=data.get("actor"),
            params=data.get("params"),
            decision=data.get("decision"),
            approval_url=data.get("approvalUrl"),
            proposed_at=data.get("timestamp"),
        )


@strawberry.type(description="The approval request of a pending action.")
class ApprovalSnapshot:
    id: strawberry.ID | None
    action_id: strawberry.ID
    status: str

    @classmethod
    def from_data(cls, data: dict[str, Any], change: str) -> ApprovalSnapshot:
        approval = data.get("approval")
        approval = approval if isinstance(approval, dict) else {}
        approval_id = data.get("approvalId") or approval.get("id")
        return cls(
            id=strawberry.ID(approval_id) if approval_id else None,
            action_id=strawberry.ID(str(data.get("actionId") or "")),
            status="pending" if change == "created" else change,
        )


@strawberry.type(description="One change to the pending set: add on created, remove on the others.")
class PendingApprovalChange:
    seq: int
    timestamp: str
    event_id: strawberry.ID
    event: str
    change: str = strawberry.field(description="created | approved | rejected | expired")
    approval: ApprovalSnapshot
    action: ActionSnapshot


@strawberry.type
class ActionUpdate:
    seq: int
    timestamp: str
    event_id: strawberry.ID
    event: str
    action: ActionSnapshot


@strawberry.type(description="A workflow execution as its event describes it.")
class ExecutionSnapshot:
    id: strawberry.ID
    workflow_id: strawberry.ID | None
    status: str | None
    error: str | None
    data: JSON

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ExecutionSnapshot:
        workflow_id = data.get("workflowId")
        return cls(
            id=strawberry.ID(str(data.get("executionId") or "")),
            workflow_id=strawberry.ID(workflow_id) if workflow_id else None,
            status=data.get("status"),
            error=data.get("error"),
            data=cast(JSON, data),
        )


@strawberry.type
class ExecutionUpdate:
    seq: int
    timestamp: str
    event_id: strawberry.ID
    event: str
    execution: ExecutionSnapshot


@strawberry.type(description="Any event of the catalogue, as webhooks receive it.")
class LiveEvent:
    seq: int
    timestamp: str
    id: strawberry.ID
    event: str
    data: JSON
