"""GraphQL types for actions, policies, approvals and decisions; related rows come via DataLoaders."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models.governance import Action as ActionRow
from models.governance import ActionHistory as HistoryRow
from models.governance import Approval as ApprovalRow
from models.governance import Policy as PolicyRow
from models.notifications import Notification as NotificationRow
from resolvers.governance import versions
from resolvers.governance.actions import approval_id_of
from resolvers.governance.engine import Decision as EngineDecision
from resolvers.governance.grants import GrantState, grant_of
from resolvers.governance.review import barred as review_barred
from resolvers.governance.review import summary as review_summary
from resolvers.notifications.reads import next_attempt_of
from schema.context import GraphQLContext
from schema.enums import (
    ActionStatus,
    ApprovalMode,
    ApprovalStatus,
    CheckStatus,
    HistoryKind,
    PolicyMode,
    PolicyStatus,
    by_value,
)
from schema.governance.loaders import ACTIONS, APPROVALS, EXPLANATIONS, HISTORY, NOTIFICATIONS, POLICIES, loader
from schema.node import Node
from schema.pagination import After, Connection, First
from schema.reviewers.types import Review
from schema.wire import kept_in_wire_form

if TYPE_CHECKING:
    from schema.governance.accountability import ActionExplanation, PolicyVersion
_HISTORY = "schema.governance.accountability"  # versions and explanations: types that import these

_ACTION_STATUS = by_value(ActionStatus)  # proposeAction converts on every answer
_CHECK_STATUS = by_value(CheckStatus)
_APPROVAL_MODE = by_value(ApprovalMode)


@strawberry.type(description="Who proposed an action.")
class Actor:
    kind: str = strawberry.field(description="What proposed it: agent, human, system, ...")
    name: str | None = strawberry.field(description="Its name, if given.")
    provider: str | None = strawberry.field(description="Its provider (e.g. the model vendor), if given.")
    verified: bool = strawberry.field(description="True when a key bound to this agent proposed it; false when "
                                                  "the actor was only named in the proposal (self-declared).")


@strawberry.type(description="One check an action needs (or an observe-mode policy would have needed).")
class Check:
    name: str = strawberry.field(description="The check's name, as the policy's `require` lists it.")
    status: CheckStatus = strawberry.field(description="Where the check stands.")
    note: str | None = strawberry.field(description="The note the evidence gave, if any.")
    required: bool = strawberry.field(description="False for checks only an observe-mode policy asked for.")


@strawberry.type(description="A decision as a proposal's answer shows it.")
class Decision:
    status: ActionStatus = strawberry.field(description="The decision.")
    checks: list[Check] = strawberry.field(description="The checks and where they stand.")
    reason: str | None = strawberry.field(default=None, description="Why it was rejected, when a reason was given "
                                                                    "(the kill switch names the disabled agent).")
    edited: bool = strawberry.field(default=False, description="True when an approver changed the params "
                                                               "(allowEdit); `originalParams` keeps them.")


def _checks(rows: list[dict[str, Any]]) -> list[Check]:
    return [Check(name=c["name"], status=_CHECK_STATUS[c["status"]], note=c.get("note"),
                  required=c.get("required", True)) for c in rows]


@strawberry.type(description="One entry of an action's audit trail: what happened, when and by whom.")
class HistoryEntry(Node):
    id: strawberry.ID = strawberry.field(description="The entry's id (`hist_...`).")
    kind: HistoryKind = strawberry.field(description="What happened.")
    status: ActionStatus = strawberry.field(description="The action's status after it happened.")
    by: str | None = strawberry.field(description="Who did it: an API key id, or `system:expiry`.")
    detail: JSON = strawberry.field(description="What else was recorded: policy ids, check names, a reason, ...")
    created_at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def from_row(cls, row: HistoryRow) -> HistoryEntry:
        return cls(id=strawberry.ID(row.id), kind=HistoryKind(row.kind), status=ActionStatus(row.status), by=row.by,
                   detail=cast(JSON, row.detail), created_at=row.created_at)


@strawberry.type(description="Rules an organization applies to proposed actions.")
class Policy(Node):
    id: strawberry.ID = strawberry.field(description="The policy's id (`pol_...`).")
    name: str = strawberry.field(description="The policy's name.")
    description: str | None = strawberry.field(description="What the policy is for.")
    mode: PolicyMode = strawberry.field(description="Whether its rules decide or are only observed.")
    status: PolicyStatus = strawberry.field(description="Whether it is evaluated.")
    rules: JSON = strawberry.field(description="The rules, normalised: `{when, require, approval, deny, expiresIn, "
                                               "mode}` each.")
    notify: JSON = strawberry.field(description="Connectors told when a matching action waits, escalates or is "
                                                "decided: `[{connector, action, input}]`.")
    version: int = strawberry.field(description="Goes up by one with every change.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: PolicyRow) -> Policy:
        return cls(id=strawberry.ID(row.id), name=row.name, description=row.description, mode=PolicyMode(row.mode),
                   status=PolicyStatus(row.status), rules=cast(JSON, row.rules), version=row.version,
                   notify=cast(JSON, row.notify or []),
                   created_at=row.created_at, updated_at=row.updated_at)

    @strawberry.field(description="Its versions, newest first; kept when archived (scope policies:read).")
    async def versions(
        self, info: Info[GraphQLContext, None], first: First = 50, after: After = None
    ) -> Connection[Annotated[PolicyVersion, strawberry.lazy(_HISTORY)]]:
        from schema.governance.accountability import PolicyVersion

        page = await versions.list_versions(info.context.ctx, str(self.id), limit=first, cursor=after)
        return Connection.from_page(page, PolicyVersion.from_row)


@strawberry.type(description="An action an agent proposed, the decision on it and who made it.")
class Action(Node):
    row: strawberry.Private[ActionRow]
    id: strawberry.ID = strawberry.field(description="The action's id (`act_...`).")
    type: str = strawberry.field(description="What the agent wants to do, e.g. `send_email`.")
    actor: Actor = strawberry.field(description="Who proposed it.")
    target: str | None = strawberry.field(description="What it acts on, if given.")
    params: JSON = strawberry.field(description="Its effective parameters: as proposed, or as an approver "
                                                "edited them.")
    status: ActionStatus = strawberry.field(description="Where it stands.")
    policy_ids: list[str] = strawberry.field(description="The ids of the policies whose rules matched it.")
    approval_id: str | None = strawberry.field(description="Its approval's id (`apr_...`) when it waited for one.")
    approval_mode: ApprovalMode | None = strawberry.field(
        description="Who approves it once its checks have passed; null when it never waited."
    )
    expires_at: datetime | None = strawberry.field(description="When it expires if still undecided.")
    decided_at: datetime | None = strawberry.field(description="When it was decided; null while pending.")
    decided_by: str | None = strawberry.field(
        description="Who decided: an API key id, `policy` or `system:expiry`; null while pending."
    )
    reason: str | None = strawberry.field(description="Why it was rejected, when a reason was given.")
    client_id: str | None = strawberry.field(description="The id the client gave it (`id` in the proposal).")
    agent_id: str | None = strawberry.field(description="The agent it is counted for: a key's own agent "
                                                        "(`actor.verified`), else as the client named it.")
    created_at: datetime = strawberry.field(description="When it was proposed.")
    metadata: JSON | None = strawberry.field(description="The proposer's own context, echoed in every event of "
                                                         "the action.")

    @classmethod
    def from_row(cls, row: ActionRow) -> Action:
        mode = row.approval_mode
        return cls(
            row=row, id=strawberry.ID(row.id), type=row.type,
            actor=Actor(kind=row.actor_kind, name=row.actor_name, provider=row.actor_provider,
                        verified=row.actor_verified),
            target=row.target, params=cast(JSON, row.params), status=_ACTION_STATUS[row.status],
            policy_ids=list(row.policy_ids), approval_id=approval_id_of(row),
            approval_mode=_APPROVAL_MODE[mode] if mode is not None else None, expires_at=row.expires_at,
            decided_at=row.decided_at, decided_by=row.decided_by, reason=row.reason, client_id=row.client_ref,
            agent_id=row.agent_id, created_at=row.created_at, metadata=cast(JSON, row.metadata),
        )

    @strawberry.field(description="The notices sent to its policies' notify connectors, oldest first.")
    async def notifications(self, info: Info[GraphQLContext, None]) -> list[Notification]:
        return [Notification.from_row(r) for r in await loader(info, NOTIFICATIONS).load(self.row.id)]

    @strawberry.field(description="Its single-use grant: what an executor consumes before running it.")
    def grant(self) -> Grant:
        return Grant.from_state(grant_of(self.row))

    @strawberry.field(description="The decision as the proposal's answer shows it.")
    def decision(self) -> Decision:
        return Decision(status=self.status, checks=_checks(self.row.checks), reason=self.row.reason,
                        edited=self.row.original_params is not None)

    @strawberry.field(description="The params as proposed, when an approver edited them; null otherwise.")
    def original_params(self) -> JSON | None:
        return cast(JSON, self.row.original_params)

    @strawberry.field(description="The API key that proposed it.")
    def proposed_by(self) -> str | None:
        return self.row.proposed_by

    @strawberry.field(description="Approvals needed and from whom, edits, the deadline's outcome; null when its "
                                  "rules set none of approvals, approvers, allowEdit, onExpire.")
    def review(self) -> Review | None:
        summary = review_summary(self.row)
        return Review.from_summary(summary) if summary is not None else None

    @strawberry.field(description="Why the key reading this may not approve or reject it under its rule (not an "
                                  "approver, or its proposer under a quorum); null when it may.")
    def decision_barred(self, info: Info[GraphQLContext, None]) -> str | None:
        return review_barred(self.row, info.context.ctx.key_id)

    @strawberry.field(description="The checks and where they stand (the same as `decision.checks`).")
    def checks(self) -> list[Check]:
        return _checks(self.row.checks)

    @strawberry.field(description="The human decision it waits or waited for; null when it never waited.")
    async def approval(self, info: Info[GraphQLContext, None]) -> Approval | None:
        row = await loader(info, APPROVALS).load(self.row.id)
        return Approval.from_row(row) if row else None

    @strawberry.field(description="The policies whose rules matched this action.")
    async def matched_policies(self, info: Info[GraphQLContext, None]) -> list[Policy]:
        rows = await loader(info, POLICIES).load_many(list(self.row.policy_ids))
        return [Policy.from_row(r) for r in rows if r is not None]

    @strawberry.field(description="Why it was decided: every rule of the policy versions in force then, matched or "
                                  "not and on which condition (scopes actions:read and policies:read; CONFLICT when "
                                  "no policy decided it).")
    async def explanation(
        self, info: Info[GraphQLContext, None]
    ) -> Annotated[ActionExplanation, strawberry.lazy(_HISTORY)]:
        from schema.governance.accountability import ActionExplanation

        return ActionExplanation.from_found(await loader(info, EXPLANATIONS).load(self.row.id))

    @strawberry.field(description="The audit trail, oldest first.")
    async def history(self, info: Info[GraphQLContext, None]) -> list[HistoryEntry]:
        return [HistoryEntry.from_row(r) for r in await loader(info, HISTORY).load(self.row.id)]


@strawberry.type(description="One notice of an action event to one connector, and where its delivery stands.")
class Notification(Node):
    id: strawberry.ID = strawberry.field(description="The notification's id (`ntf_...`).")
    event: str = strawberry.field(description="The action event it tells of, e.g. `action.pending_approval`.")
    connector_id: str = strawberry.field(description="The connector it goes through.")
    connector_action: str = strawberry.field(description="The connector action it runs.")
    policy_id: str = strawberry.field(description="The policy whose `notify` named the connector.")
    status: str = strawberry.field(description="`pending` (to be sent or retried), `sent` or `failed` (given up).")
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry.field(description="When it is tried next; null unless pending.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    last_call_id: str | None = strawberry.field(description="The connector call of the last attempt.")
    sent_at: datetime | None = strawberry.field(description="When it was delivered.")
    created_at: datetime = strawberry.field(description="When it was queued.")

    @classmethod
    def from_row(cls, row: NotificationRow) -> Notification:
        return cls(id=strawberry.ID(row.id), event=row.event_type, connector_id=row.connector_id,
                   connector_action=row.connector_action, policy_id=row.policy_id, status=row.status,
                   attempts=row.attempts, next_attempt_at=next_attempt_of(row), last_error=row.last_error,
                   last_call_id=row.last_call_id, sent_at=row.sent_at, created_at=row.created_at)


@strawberry.type(description="An approved action's single-use grant, bound to a hash of what was approved.")
class Grant:
    status: str = strawberry.field(description="`none` (not approved), `active` (usable once) or `consumed`.")
    hash: str | None = strawberry.field(description="Hex SHA-256 of organization, type, target and effective params "
                                                    "(canonical JSON); null unless approved.")
    consumed_at: datetime | None = strawberry.field(description="When it was used; null until then.")
    consumed_by: str | None = strawberry.field(description="The API key that used it.")

    @classmethod
    def from_state(cls, state: GrantState) -> Grant:
        return cls(status=state.status, hash=state.hash, consumed_at=state.consumed_at,
                   consumed_by=state.consumed_by)


@strawberry.type(description="The human decision an action in pending_approval waits for (one per action).")
class Approval(Node):
    action_id: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="The approval's id (`apr_...`, sharing its action's suffix).")
    status: ApprovalStatus = strawberry.field(description="Where the decision stands.")
    decided_by: str | None = strawberry.field(description="Who decided: an API key id; null while pending or "
                                                          "when it expired.")
    approver: str | None = strawberry.field(description="The approver's name, when the client gave one.")
    reason: str | None = strawberry.field(description="Why it was rejected, when a reason was given.")
    comment: str | None = strawberry.field(description="The comment given on approval.")
    created_at: datetime = strawberry.field(description="When the action started waiting.")
    decided_at: datetime | None = strawberry.field(description="When it was decided; null while pending.")

    @classmethod
    def from_row(cls, row: ApprovalRow) -> Approval:
        return cls(action_id=row.action_id, id=strawberry.ID(row.id), status=ApprovalStatus(row.status),
                   decided_by=row.decided_by, approver=row.approver, reason=row.reason, comment=row.comment,
                   created_at=row.created_at, decided_at=row.decided_at)

    @strawberry.field(description="The action it decides.")
    async def action(self, info: Info[GraphQLContext, None]) -> Action:
        row = await loader(info, ACTIONS).load(self.action_id)
        return Action.from_row(row)


@strawberry.type(description="The answer to proposeAction.")
class ProposeActionPayload:
    action: Action = strawberry.field(description="The action and its decision.")
    replayed: bool = strawberry.field(description="True when an idempotency key returned an earlier action.")


@strawberry.type(description="The answer to submitEvidence.")
class EvidencePayload:
    action: Action = strawberry.field(description="The action with its checks updated (and decided, if they "
                                                  "decide it).")
    ready_for_approval: bool = strawberry.field(description="True when every required check has passed and a "
                                                            "human may now approve.")


@strawberry.type(description="The decision an action would get now; nothing was stored.")
class SimulatedDecision:
    status: ActionStatus = strawberry.field(description="The decision it would get.")
    policy_ids: list[str] = strawberry.field(description="The ids of the policies whose rules matched.")
    decision: Decision = strawberry.field(description="The decision as a proposal's answer would show it.")
    approval: ApprovalMode | None = strawberry.field(description="Who would approve it; null unless pending.")
    expires_in: int | None = strawberry.field(description="Seconds it would wait before expiring; null unless "
                                                          "pending.")
    observed: JSON = strawberry.field(description="Per matching observe-mode rule, what enforcing it would have "
                                                  "decided.")
    review: JSON | None = strawberry.field(default=None, description="How it would be reviewed (`quorum`, "
                                           "`approvals`, `approvers`, `allowEdit`, `onExpire`, `escalateTo`); null "
                                           "when no matching rule sets these keys.")

    @classmethod
    def from_decision(cls, d: EngineDecision) -> SimulatedDecision:
        status = _ACTION_STATUS[d.status]
        checks = [Check(name=c.name, status=_CHECK_STATUS[c.status], note=c.note, required=c.required)
                  for c in d.checks]
        return cls(status=status, policy_ids=list(d.policy_ids), decision=Decision(status=status, checks=checks),
                   approval=_APPROVAL_MODE[d.approval] if d.approval else None, expires_in=d.expires_in,
                   observed=cast(JSON, [o._asdict() for o in d.observed]),
                   review=cast(JSON, d.review.to_json()) if d.review is not None else None)


@strawberry.input(description="Who proposes an action.")
class ActorInput:
    kind: str = strawberry.field(description="What proposes it: agent, human, system, ... (required).")
    name: str | None = strawberry.field(default=None, description="Its name.")
    provider: str | None = strawberry.field(default=None, description="Its provider (e.g. the model vendor).")


@strawberry.input(description="The fields of a proposal, named as in the REST body (resolvers take that body).")
class ProposeActionFields:
    type: str = strawberry.field(description="What the agent wants to do, e.g. `send_email`.")
    actor: ActorInput = strawberry.field(description="Who proposes it.")
    target: str | None = strawberry.field(default=None, description="What it acts on.")
    params: JSON | None = strawberry.field(default=None, description="Its parameters: an object.")
    id: str | None = strawberry.field(default=None, description="The client's own id for it (kept as `clientId`).")
    timestamp: str | None = strawberry.field(default=None, description="When the client made it (ISO-8601).")
    agent_id: str | None = strawberry.field(default=None, description="The agent that proposes it.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="A key that makes retries safe: the same key answers the earlier action."
    )
    metadata: JSON | None = strawberry.field(default=None, description="The proposer's own context (an object, "
                                                                       "at most 16 KiB), echoed in every event.")


@kept_in_wire_form
@strawberry.input(description="A proposed action (reaches the resolver as its wire form, see schema/wire.py).")
class ProposeActionInput(ProposeActionFields):
    pass


@kept_in_wire_form
@strawberry.input(description="An action to decide without storing it, optionally against draft policies.")
class SimulateDecisionInput(ProposeActionFields):
    policies: JSON | None = strawberry.field(default=None, description="Draft policies evaluated as if active.")


@strawberry.input(description="One evidence check.")
class CheckInput:
    name: str = strawberry.field(description="The check's name, as a policy's `require` lists it.")
    passed: bool = strawberry.field(name="pass", description="Whether it passed.")
    note: str | None = strawberry.field(default=None, description="A note shown with the check.")
    meta: JSON | None = strawberry.field(default=None, description="Anything else to keep with it: an object.")


@strawberry.input(description="A new policy.")
class CreatePolicyInput:
    rules: JSON = strawberry.field(description="The rules: a list of `{when, require, approval, deny, expiresIn, "
                                               "mode}`, optionally with `approvals`, `approvers`, `allowEdit`, "
                                               "`onExpire` and `escalateTo`.")
    name: str | None = strawberry.field(default=None, description="Its name.")
    description: str | None = strawberry.field(default=None, description="What it is for.")
    mode: str = strawberry.field(default="enforce", description="A PolicyMode value: `enforce` (the default) or "
                                                                "`observe`.")
    status: str = strawberry.field(default="active", description="A PolicyStatus value: `active` (the default) or "
                                                                 "`archived`.")
    notify: JSON | None = strawberry.field(default=None, description="Connectors to tell when a matching action "
                                                                     "waits, escalates or is decided: connector ids "
                                                                     "or `{connector, action, input}`.")


@strawberry.input(description="The fields of a policy to replace; those left out keep their value.")
class UpdatePolicyInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="A new description.")
    mode: str | None = strawberry.field(default=strawberry.UNSET, description="A PolicyMode value: `enforce` or "
                                                                              "`observe`.")
    status: str | None = strawberry.field(default=strawberry.UNSET, description="A PolicyStatus value: `active` or "
                                                                                "`archived`.")
    rules: JSON | None = strawberry.field(default=strawberry.UNSET, description="New rules, replacing all of them.")
    notify: JSON | None = strawberry.field(default=strawberry.UNSET, description="New notify connectors, replacing "
                                                                               "all of them.")

    def to_wire(self) -> dict[str, Any]:
        fields = ("name", "description", "mode", "status", "rules", "notify")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not strawberry.UNSET}
