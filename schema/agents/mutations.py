"""Mutations: registerAgent, updateAgent, disableAgent."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.agents import registry
from schema.agents.queries import AgentId
from schema.agents.types import Agent, RegisterAgentInput, UpdateAgentInput
from schema.context import GraphQLContext

I = Info[GraphQLContext, None]  # noqa: E741


@strawberry.type
class AgentMutations:
    @strawberry.mutation(description="Register an agent (scope agents:write; CONFLICT when its name is taken).")
    async def register_agent(
        self, info: I, input: Annotated[RegisterAgentInput, strawberry.argument(description="The new agent.")]
    ) -> Agent:
        return Agent.from_row(await registry.register(info.context.ctx, input.to_wire()))

    @strawberry.mutation(description="Change an agent (scope agents:write); status `disabled` is the kill switch.")
    async def update_agent(
        self, info: I, id: AgentId,
        input: Annotated[UpdateAgentInput, strawberry.argument(description="The fields to change.")],
    ) -> Agent:
        return Agent.from_row(await registry.update(info.context.ctx, str(id), input.to_wire()))

    @strawberry.mutation(description="The kill switch (scope agents:write): its pending actions are rejected, its "
                                     "proposals from now on too, its subscriptions closed. Kept with its history.")
    async def disable_agent(self, info: I, id: AgentId) -> Agent:
        return Agent.from_row(await registry.disable(info.context.ctx, str(id)))
