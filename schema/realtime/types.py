"""GraphQL types of the live feeds, built from an event envelope alone.

Every payload is made from the committed event (its data snapshot), never from a database read,
so one event yields one payload that every subscriber of the same document shares. Statuses come
from the event's data: a value the enum lacks (an event written by another version) reads as null
rather than failing the whole payload.

These snapshots do not implement Node: their ids are those of the action, approval or execution
they describe, which `node(id:)` answers with the full object.
"""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from schema.enums import ActionStatus, ApprovalStatus, ExecutionStatus, PendingChange, member_or_none

_SEQ = "The event's position in the organization's feed: give it as `since` to resume after it."
_TIMESTAMP = "When the event happened (ISO-8601 UTC)."
_EVENT_ID = "The event's id (`evt_...`)."
_EVENT = "The event's name, e.g. `action.approved`."


@strawberry.type(description="The action as its event describes it.")
class ActionSnapshot:
    id: strawberry.ID = strawberry.field(description="The action's id (`act_...`).")
    type: str | None = strawberry.field(description="What the agent wants to do.")
    status: ActionStatus | None = strawberry.field(description="Its status after the event.")
    actor: JSON | None = strawberry.field(description="Who proposed it: `{kind, name, provider}`.")
    params: JSON | None = strawberry.field(description="Its parameters.")
    decision: JSON | None = strawberry.field(description="The decision: `{status, checks}`.")
    approval_url: str | None = strawberry.field(description="Where a human can decide it, while pending.")
    proposed_at: str | None = strawberry.field(description="When it was proposed (ISO-8601).")

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ActionSnapshot:
        return cls(
            id=strawberry.ID(str(data.get("actionId") or "")),
            type=data.get("type"),
            status=member_or_none(ActionStatus, data.get("status")),
            actor=data.get("actor"),
            params=data.get("params"),
            decision=data.get("decision"),
            approval_url=data.get("approvalUrl"),
            proposed_at=data.get("timestamp"),
        )


@strawberry.type(description="The approval request of a pending action.")
class ApprovalSnapshot:
    id: strawberry.ID | None = strawberry.field(description="The approval's id (`apr_...`), when the event gives it.")
    action_id: strawberry.ID = strawberry.field(description="The action's id.")
    status: ApprovalStatus = strawberry.field(description="`pending` on created, else the decision.")

    @classmethod
    def from_data(cls, data: dict[str, Any], change: str) -> ApprovalSnapshot:
        approval = data.get("approval")
        approval = approval if isinstance(approval, dict) else {}
        approval_id = data.get("approvalId") or approval.get("id")
        return cls(
            id=strawberry.ID(approval_id) if approval_id else None,
            action_id=strawberry.ID(str(data.get("actionId") or "")),
            status=ApprovalStatus.pending if change == "created" else ApprovalStatus(change),
        )


@strawberry.type(description="One change to the pending set: add on created, remove on the others.")
class PendingApprovalChange:
    seq: int = strawberry.field(description=_SEQ)
    timestamp: str = strawberry.field(description=_TIMESTAMP)
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID)
    event: str = strawberry.field(description=_EVENT)
    change: PendingChange = strawberry.field(description="How the pending set changes: add on created, remove "
                                                         "on the others.")
    approval: ApprovalSnapshot = strawberry.field(description="The approval request.")
    action: ActionSnapshot = strawberry.field(description="The action it decides.")


@strawberry.type(description="A change to an action.")
class ActionUpdate:
    seq: int = strawberry.field(description=_SEQ)
    timestamp: str = strawberry.field(description=_TIMESTAMP)
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID)
    event: str = strawberry.field(description=_EVENT)
    action: ActionSnapshot = strawberry.field(description="The action after the change.")


@strawberry.type(description="A workflow execution as its event describes it.")
class ExecutionSnapshot:
    id: strawberry.ID = strawberry.field(description="The execution's id (`exec_...`).")
    workflow_id: strawberry.ID | None = strawberry.field(description="The workflow's id.")
    status: ExecutionStatus | None = strawberry.field(
        description="The execution's status; on workflow.step_completed, the step's (completed or failed)."
    )
    error: str | None = strawberry.field(description="Why it (or the step) failed, if it did.")
    data: JSON = strawberry.field(description="The event's whole data.")

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ExecutionSnapshot:
        workflow_id = data.get("workflowId")
        return cls(
            id=strawberry.ID(str(data.get("executionId") or "")),
            workflow_id=strawberry.ID(workflow_id) if workflow_id else None,
            status=member_or_none(ExecutionStatus, data.get("status")),
            error=data.get("error"),
            data=cast(JSON, data),
        )


@strawberry.type(description="A change to a workflow execution.")
class ExecutionUpdate:
    seq: int = strawberry.field(description=_SEQ)
    timestamp: str = strawberry.field(description=_TIMESTAMP)
    event_id: strawberry.ID = strawberry.field(description=_EVENT_ID)
    event: str = strawberry.field(description=_EVENT)
    execution: ExecutionSnapshot = strawberry.field(description="The execution after the change.")


@strawberry.type(description="Any event of the catalogue, as webhooks receive it.")
class LiveEvent:
    seq: int = strawberry.field(description=_SEQ)
    timestamp: str = strawberry.field(description=_TIMESTAMP)
    id: strawberry.ID = strawberry.field(description=_EVENT_ID)
    event: str = strawberry.field(description=_EVENT)
    data: JSON = strawberry.field(description="The event's data, as the webhook body's `data`.")
