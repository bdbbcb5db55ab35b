"""GraphQL types for actions, policies, approvals and decisions; related rows come via DataLoaders."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models.governance import Action as ActionRow
from models.governance import ActionHistory as HistoryRow
from models.governance import Approval as ApprovalRow
from models.governance import Policy as PolicyRow
from resolvers.governance.actions import approval_id_of
from resolvers.governance.engine import Decision as EngineDecision
from schema.context import GraphQLContext
from schema.governance.loaders import ACTIONS, APPROVALS, HISTORY, POLICIES, loader
from schema.wire import kept_in_wire_form


@strawberry.type
class Actor:
    kind: str
    name: str | None
    provider: str | None


@strawberry.type
class Check:
    name: str
    status: str
    note: str | None
    required: bool


@strawberry.type
class Decision:
    status: str
    checks: list[Check]


@strawberry.type
class HistoryEntry:
    id: strawberry.ID
    kind: str
    status: str
    by: str | None
    detail: JSON
    created_at: datetime

    @classmethod
    def from_row(cls, row: HistoryRow) -> HistoryEntry:
        return cls(id=strawberry.ID(row.id), kind=row.kind, status=row.status, by=row.by, detail=cast(JSON, row.detail),
                   created_at=row.created_at)


@strawberry.type
class Policy:
    id: strawberry.ID
    name: str
    description: str | None
    mode: str
    status: str
    rules: JSON
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: PolicyRow) -> Policy:
        return cls(id=strawberry.ID(row.id), name=row.name, description=row.description, mode=row.mode,
                   status=row.status, rules=cast(JSON, row.rules), version=row.version, created_at=row.created_at,
                   updated_at=row.updated_at)


def _checks(rows: list[dict[str, Any]]) -> list[Check]:
    return [Check(name=c["name"], status=c["status"], note=c.get("note"), required=c.get("required", True))
            for c in rows]


@strawberry.type
class Action:
    row: strawberry.Private[ActionRow]
    id: strawberry.ID
    type: str
    actor: Actor
    target: str | None
    params: JSON
    status: str
    policy_ids: list[str]
    approval_id: str | None
    approval_mode: str | None
    expires_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    client_id: str | None
    agent_id: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: ActionRow) -> Action:
        return cls(
            row=row, id=strawberry.ID(row.id), type=row.type,
            actor=Actor(kind=row.actor_kind, name=row.actor_name, provider=row.actor_provider),
            target=row.target, params=cast(JSON, row.params), status=row.status, policy_ids=list(row.policy_ids),
            approval_id=approval_id_of(row), approval_mode=row.approval_mode, expires_at=row.expires_at,
            decided_at=row.decided_at, decided_by=row.decided_by, reason=row.reason, client_id=row.client_ref,
            agent_id=row.agent_id, created_at=row.created_at,
        )

    @strawberry.field(description="The decision as the proposal's answer shows it.")
    def decision(self) -> Decision:
        return Decision(status=self.row.status, checks=_checks(self.row.checks))

    @strawberry.field
    def checks(self) -> list[Check]:
        return _checks(self.row.checks)

    @strawberry.field
    async def approval(self, info: Info[GraphQLContext, None]) -> Approval | None:
        row = await loader(info, APPROVALS).load(self.row.id)
        return Approval.from_row(row) if row else None

    @strawberry.field(description="The policies whose rules matched this action.")
    async def matched_policies(self, info: Info[GraphQLContext, None]) -> list[Policy]:
        rows = await loader(info, POLICIES).load_many(list(self.row.policy_ids))
        return [Policy.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="The audit trail, oldest first.")
    async def history(self, info: Info[GraphQLContext, None]) -> list[HistoryEntry]:
        return [HistoryEntry.from_row(r) for r in await loader(info, HISTORY).load(self.row.id)]


@strawberry.type
class Approval:
    action_id: strawberry.Private[str]
    id: strawberry.ID
    status: str
    decided_by: str | None
    approver: str | None
    reason: str | None
    comment: str | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def from_row(cls, row: ApprovalRow) -> Approval:
        return cls(action_id=row.action_id, id=strawberry.ID(row.id), status=row.status, decided_by=row.decided_by,
                   approver=row.approver, reason=row.reason, comment=row.comment, created_at=row.created_at,
                   decided_at=row.decided_at)

    @strawberry.field
    async def action(self, info: Info[GraphQLContext, None]) -> Action:
        row = await loader(info, ACTIONS).load(self.action_id)
        return Action.from_row(row)


@strawberry.type
class ProposeActionPayload:
    action: Action
    replayed: bool = strawberry.field(description="True when an idempotency key returned an earlier action.")


@strawberry.type
class EvidencePayload:
    action: Action
    ready_for_approval: bool


@strawberry.type
class SimulatedDecision:
    status: str
    policy_ids: list[str]
    decision: Decision
    approval: str | None
    expires_in: int | None
    observed: JSON

    @classmethod
    def from_decision(cls, d: EngineDecision) -> SimulatedDecision:
        checks = [Check(name=c.name, status=c.status, note=c.note, required=c.required) for c in d.checks]
        return cls(status=d.status, policy_ids=list(d.policy_ids), decision=Decision(status=d.status, checks=checks),
                   approval=d.approval, expires_in=d.expires_in, observed=cast(JSON, [o._asdict() for o in d.observed]))


@strawberry.input
class ActorInput:
    kind: str
    name: str | None = None
    provider: str | None = None


@strawberry.input
class ProposeActionFields:
    """The fields of a proposal, named as in the REST body (resolvers take that body)."""

    type: str
    actor: ActorInput
    target: str | None = None
    params: JSON | None = None
    id: str | None = None
    timestamp: str | None = None
    agent_id: str | None = None
    idempotency_key: str | None = None


@kept_in_wire_form
@strawberry.input
class ProposeActionInput(ProposeActionFields):
    """Reaches the resolver as its wire form (see schema/wire.py)."""


@kept_in_wire_form
@strawberry.input
class SimulateDecisionInput(ProposeActionFields):
    policies: JSON | None = strawberry.field(default=None, description="Draft policies evaluated as if active.")


@strawberry.input
class CheckInput:
    name: str
    passed: bool = strawberry.field(name="pass")
    note: str | None = None
    meta: JSON | None = None


@strawberry.input
class CreatePolicyInput:
    rules: JSON
    name: str | None = None
    description: str | None = None
    mode: str = "enforce"
    status: str = "active"


@strawberry.input
class UpdatePolicyInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    mode: str | None = strawberry.UNSET
    status: str | None = strawberry.UNSET
    rules: JSON | None = strawberry.UNSET

    def to_wire(self) -> dict[str, Any]:
        fields = ("name", "description", "mode", "status", "rules")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not strawberry.UNSET}
