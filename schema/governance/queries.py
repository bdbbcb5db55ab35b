"""Queries: action, actions, policies, policy, pendingApprovals, approval."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.governance import actions, approvals, policies
from schema.context import GraphQLContext
from schema.governance.types import Action, Approval, Policy
from schema.pagination import Connection

I = Info[GraphQLContext, None]  # noqa: E741


@strawberry.type
class GovernanceQueries:
    @strawberry.field(description="One action of the organization.")
    async def action(self, info: I, id: strawberry.ID) -> Action:
        return Action.from_row(await actions.get(info.context.ctx, str(id)))

    @strawberry.field(description="Actions, newest first.")
    async def actions(
        self, info: I, status: str | None = None, type: str | None = None, first: int = 50, after: str | None = None
    ) -> Connection[Action]:
        page = await actions.list_actions(info.context.ctx, status=status, type=type, limit=first, cursor=after)
        return Connection.from_page(page, Action.from_row)

    @strawberry.field(description="Policies, newest first.")
    async def policies(
        self, info: I, status: str | None = None, first: int = 50, after: str | None = None
    ) -> Connection[Policy]:
        page = await policies.list_policies(info.context.ctx, status=status, limit=first, cursor=after)
        return Connection.from_page(page, Policy.from_row)

    @strawberry.field
    async def policy(self, info: I, id: strawberry.ID) -> Policy:
        return Policy.from_row(await policies.get(info.context.ctx, str(id)))

    @strawberry.field(description="Approvals awaiting a human decision.")
    async def pending_approvals(self, info: I, first: int = 50, after: str | None = None) -> Connection[Approval]:
        page = await approvals.list_pending(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Approval.from_row)

    @strawberry.field
    async def approval(self, info: I, id: strawberry.ID) -> Approval:
        return Approval.from_row(await approvals.get(info.context.ctx, str(id)))
