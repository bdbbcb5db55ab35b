"""Queries: agents, agent(id)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.agents import registry
from schema.agents.types import Agent
from schema.context import GraphQLContext
from schema.pagination import After, Connection, First

AgentId = Annotated[strawberry.ID, strawberry.argument(description="The agent's id (`agt_...`).")]
AgentStatusFilter = Annotated[str | None, strawberry.argument(
    description="Only agents in this status: an AgentStatus value (`active`, `idle`, `error`, `disabled`)."
)]


@strawberry.type
class AgentQueries:
    @strawberry.field(description="The organization's agents, newest first (scope agents:read).")
    async def agents(
        self, info: Info[GraphQLContext, None], status: AgentStatusFilter = None, first: First = 50,
        after: After = None,
    ) -> Connection[Agent]:
        page = await registry.list_agents(info.context.ctx, status=status, limit=first, cursor=after)
        return Connection.from_page(page, Agent.from_row)

    @strawberry.field(description="One agent with its counts and actions (scope agents:read).")
    async def agent(self, info: Info[GraphQLContext, None], id: AgentId) -> Agent:
        return Agent.from_row(await registry.get(info.context.ctx, str(id)))
