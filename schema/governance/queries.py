"""Queries: action, actions, policies, policy, policyVersionDiff, policyBacktest, pendingApprovals, approval."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.governance import actions, approvals, backtest, policies, versions, waiting
from schema.context import GraphQLContext
from schema.governance.accountability import PolicyBacktest, PolicyBacktestInput, PolicyVersionDiff
from schema.governance.types import Action, Approval, Policy
from schema.pagination import After, Connection, First
from schema.wire import WireInput

I = Info[GraphQLContext, None]  # noqa: E741
ActionId = Annotated[strawberry.ID, strawberry.argument(description="The action's id (`act_...`).")]
ApprovalId = Annotated[strawberry.ID, strawberry.argument(description="The approval's id (`apr_...`).")]
PolicyId = Annotated[strawberry.ID, strawberry.argument(description="The policy's id (`pol_...`).")]
ActionStatusFilter = Annotated[str | None, strawberry.argument(
    description="Only actions in this status: an ActionStatus value (`pending_approval`, `approved`, ...)."
)]
WaitSeconds = Annotated[int | None, strawberry.argument(
    description="Long-poll: seconds (0-60) to wait for a decision; the action as it stands when they pass."
)]
ActionTypeFilter = Annotated[str | None, strawberry.argument(description="Only actions of this type, exactly.")]
PolicyStatusFilter = Annotated[str | None, strawberry.argument(
    description="Only policies in this status: a PolicyStatus value (`active` or `archived`)."
)]

PolicyActionTypeFilter = Annotated[str | None, strawberry.argument(
    description="Only policies with a rule that could apply to this action type (no actionType condition, or one "
                "that matches it), as REST's `GET /policy?actionType=`."
)]


@strawberry.type
class GovernanceQueries:
    @strawberry.field(description="One action of the organization (scope actions:read); with `wait`, answered once "
                                  "it is decided or after that many seconds (0-60), whichever comes first.")
    async def action(self, info: I, id: ActionId, wait: WaitSeconds = None) -> Action:
        if wait is None:
            return Action.from_row(await actions.get(info.context.ctx, str(id)))
        seconds = waiting.wait_seconds(wait)
        return Action.from_row(await waiting.get_when_decided(info.context.ctx, str(id), seconds or 0))

    @strawberry.field(description="Actions, newest first (scope actions:read).")
    async def actions(
        self, info: I, status: ActionStatusFilter = None, type: ActionTypeFilter = None, first: First = 50,
        after: After = None,
    ) -> Connection[Action]:
        page = await actions.list_actions(info.context.ctx, status=status, type=type, limit=first, cursor=after)
        return Connection.from_page(page, Action.from_row)

    @strawberry.field(description="Policies, newest first (scope policies:read).")
    async def policies(
        self, info: I, status: PolicyStatusFilter = None, action_type: PolicyActionTypeFilter = None,
        first: First = 50, after: After = None,
    ) -> Connection[Policy]:
        page = await policies.list_policies(info.context.ctx, status=status, action_type=action_type, limit=first,
                                            cursor=after)
        return Connection.from_page(page, Policy.from_row)

    @strawberry.field(description="One policy (scope policies:read).")
    async def policy(self, info: I, id: PolicyId) -> Policy:
        return Policy.from_row(await policies.get(info.context.ctx, str(id)))

    @strawberry.field(description="What changed from one version of a policy to another (scope policies:read).")
    async def policy_version_diff(
        self, info: I, policy_id: PolicyId,
        from_: Annotated[int, strawberry.argument(name="from", description="The first version's number.")],
        to: Annotated[int, strawberry.argument(description="The second version's number.")],
    ) -> PolicyVersionDiff:
        before, after = versions.version_number(from_, "version"), versions.version_number(to, "version")
        return PolicyVersionDiff.from_diff(await versions.diff(info.context.ctx, str(policy_id), before, after))

    @strawberry.field(description="Replay recorded actions (at most 100,000) through today's policies and draft "
                                  "ones; nothing is stored (scopes policies:read and actions:read).")
    async def policy_backtest(
        self, info: I, input: Annotated[WireInput, strawberry.argument(
            graphql_type=PolicyBacktestInput, description="The drafts and the window."
        )]
    ) -> PolicyBacktest:
        return PolicyBacktest.from_result(await backtest.backtest(info.context.ctx, input.to_wire()))

    @strawberry.field(description="Approvals awaiting a human decision, newest first (scope approvals:read).")
    async def pending_approvals(self, info: I, first: First = 50, after: After = None) -> Connection[Approval]:
        page = await approvals.list_pending(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Approval.from_row)

    @strawberry.field(description="One approval, pending or decided (scope approvals:read).")
    async def approval(self, info: I, id: ApprovalId) -> Approval:
        return Approval.from_row(await approvals.get(info.context.ctx, str(id)))
