"""Mutations: proposeAction, submitEvidence, create/update/archivePolicy, approve/rejectAction, simulateDecision."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from resolvers.governance import actions, approvals, cancelling, evidence, grants, policies
from schema.context import GraphQLContext
from schema.governance.types import (
    Action,
    Approval,
    CheckInput,
    CreatePolicyInput,
    EvidencePayload,
    Policy,
    ProposeActionInput,
    ProposeActionPayload,
    SimulatedDecision,
    SimulateDecisionInput,
    UpdatePolicyInput,
)
from schema.wire import WireInput

I = Info[GraphQLContext, None]  # noqa: E741
ActionId = Annotated[strawberry.ID, strawberry.argument(description="The action's id (`act_...`).")]
ApprovalId = Annotated[strawberry.ID, strawberry.argument(description="The approval's id (`apr_...`).")]
PolicyId = Annotated[strawberry.ID, strawberry.argument(description="The policy's id (`pol_...`).")]


@strawberry.type
class GovernanceMutations:
    @strawberry.mutation(description="Propose an action and get its decision (scope actions:write).")
    async def propose_action(
        self, info: I, input: Annotated[WireInput, strawberry.argument(
            graphql_type=ProposeActionInput, description="The proposed action."
        )]
    ) -> ProposeActionPayload:
        proposal = await actions.propose(info.context.ctx, input.to_wire())
        return ProposeActionPayload(action=Action.from_row(proposal.action), replayed=proposal.replayed)

    @strawberry.mutation(description="Submit evidence checks for a pending action (scope actions:write).")
    async def submit_evidence(
        self, info: I, action_id: ActionId,
        checks: Annotated[list[CheckInput], strawberry.argument(description="The checks, 1 to 100.")],
    ) -> EvidencePayload:
        body = {"checks": [{"name": c.name, "pass": c.passed, "note": c.note, "meta": c.meta} for c in checks]}
        result = await evidence.submit(info.context.ctx, str(action_id), body)
        return EvidencePayload(action=Action.from_row(result.action), ready_for_approval=result.ready_for_approval)

    @strawberry.mutation(description="Create a policy (scope policies:write).")
    async def create_policy(
        self, info: I, input: Annotated[CreatePolicyInput, strawberry.argument(description="The new policy.")]
    ) -> Policy:
        body = {"name": input.name, "description": input.description, "mode": input.mode, "status": input.status,
                "rules": input.rules, "notify": input.notify}
        return Policy.from_row(await policies.create(info.context.ctx, body))

    @strawberry.mutation(description="Replace the given fields; the version goes up (scope policies:write).")
    async def update_policy(
        self, info: I, id: PolicyId,
        input: Annotated[UpdatePolicyInput, strawberry.argument(description="The fields to replace.")],
    ) -> Policy:
        return Policy.from_row(await policies.update(info.context.ctx, str(id), input.to_wire()))

    @strawberry.mutation(description="Archive a policy: still readable, no longer evaluated (scope policies:write).")
    async def archive_policy(self, info: I, id: PolicyId) -> Policy:
        return Policy.from_row(await policies.archive(info.context.ctx, str(id)))

    @strawberry.mutation(description="Approve once every required check has passed; under a quorum rule this counts "
                                     "one key's approval (scope approvals:write).")
    async def approve_action(
        self, info: I, approval_id: ApprovalId,
        comment: Annotated[str | None, strawberry.argument(description="A comment kept with the approval.")] = None,
        params: Annotated[JSON | None, strawberry.argument(
            description="Edited params to approve instead (only where the rule says allowEdit: true); an MCP gateway "
                        "call's must satisfy its tool's input schema (VALIDATION_ERROR, nothing changed)."
        )] = None,
        expected_params: Annotated[JSON | None, strawberry.argument(
            description="The params the reviewer was shown: CONFLICT, nothing counted, when the action's params "
                        "are no longer these (another reviewer edited them meanwhile)."
        )] = None,
    ) -> Approval:
        approval = await approvals.approve(info.context.ctx, str(approval_id), comment=comment, params=params,
                                           expected_params=expected_params)
        return Approval.from_row(approval)

    @strawberry.mutation(description="Reject a pending action with a reason (scope approvals:write).")
    async def reject_action(
        self, info: I, approval_id: ApprovalId,
        reason: Annotated[str | None, strawberry.argument(description="Why: kept on the action and its "
                                                                      "approval.")] = None,
    ) -> Approval:
        return Approval.from_row(await approvals.reject(info.context.ctx, str(approval_id), reason=reason))

    @strawberry.mutation(description="Use an approved action's single-use grant with the params about to be run: "
                                     "once only, and only with the approved params (CONFLICT otherwise; scope "
                                     "actions:write).")
    async def consume_grant(
        self, info: I, action_id: ActionId,
        params: Annotated[JSON | None, strawberry.argument(description="The params the executor is about to "
                                                                       "use: an object.")] = None,
    ) -> Action:
        return Action.from_row(await grants.consume(info.context.ctx, str(action_id), {"params": params}))
    @strawberry.mutation(description="Withdraw a pending action this key proposed (scope actions:write).")
    async def cancel_action(
        self, info: I, action_id: ActionId,
        reason: Annotated[str | None, strawberry.argument(description="Why it is withdrawn.")] = None,
    ) -> Action:
        return Action.from_row(await cancelling.cancel(info.context.ctx, str(action_id), reason=reason))

    @strawberry.mutation(description="The decision an action would get now; nothing is stored (scope policies:read).")
    async def simulate_decision(
        self, info: I, input: Annotated[WireInput, strawberry.argument(
            graphql_type=SimulateDecisionInput, description="The action to decide, and draft policies if any."
        )]
    ) -> SimulatedDecision:
        return SimulatedDecision.from_decision(await actions.simulate(info.context.ctx, input.to_wire()))
