"""GraphQL types for agents: the SDK's `Agent` with its counts, and its actions as a connection."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from models.agents import Agent as AgentRow
from resolvers.agents import registry
from schema.context import GraphQLContext
from schema.enums import AgentStatus
from schema.governance.types import Action
from schema.node import Node
from schema.pagination import After, Connection, First


@strawberry.type(description="An agent's counts, kept exactly as its actions are proposed and decided.")
class AgentMetrics:
    total_actions: int = strawberry.field(description="Every action it proposed.")
    approved_actions: int = strawberry.field(description="Those approved.")
    blocked_actions: int = strawberry.field(description="Those rejected or expired.")
    pending_actions: int = strawberry.field(description="Those still waiting for a decision.")


@strawberry.type(description="An agent of the organization: who proposes actions with the keys bound to it.")
class Agent(Node):
    id: strawberry.ID = strawberry.field(description="The agent's id (`agt_...`).")
    org_id: str = strawberry.field(description="Its organization's id.")
    name: str = strawberry.field(description="Its name, unique in the organization; its actions' actor name.")
    slug: str = strawberry.field(description="Its name in lower case with `-` between words.")
    description: str | None = strawberry.field(description="What it does.")
    status: AgentStatus = strawberry.field(description="Where it stands; `disabled` stops it.")
    config: JSON = strawberry.field(description="Its configuration: `{webhookUrl}`.")
    proposals_per_minute: int | None = strawberry.field(description="Its cap on proposals per minute; null: none.")
    metrics: AgentMetrics = strawberry.field(description="Its counts.")
    last_seen_at: datetime | None = strawberry.field(description="When a key bound to it was last used (to the "
                                                                 "minute).")
    last_action_at: datetime | None = strawberry.field(description="When it last proposed (to the minute).")
    created_at: datetime = strawberry.field(description="When it was registered.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: AgentRow) -> Agent:
        metrics = AgentMetrics(total_actions=row.total_actions, approved_actions=row.approved_actions,
                               blocked_actions=row.blocked_actions, pending_actions=row.pending_actions)
        return cls(
            id=strawberry.ID(row.id), org_id=row.organization_id, name=row.name, slug=row.slug,
            description=row.description, status=AgentStatus(row.status), config=cast(JSON, row.config or {}),
            proposals_per_minute=row.proposals_per_minute, metrics=metrics, last_seen_at=row.last_seen_at,
            last_action_at=row.last_action_at, created_at=row.created_at, updated_at=row.updated_at,
        )

    @strawberry.field(description="Its actions, newest first (scope actions:read).")
    async def actions(
        self, info: Info[GraphQLContext, None],
        status: Annotated[str | None, strawberry.argument(description="Only actions in this status: an "
                                                                      "ActionStatus value.")] = None,
        type: Annotated[str | None, strawberry.argument(description="Only actions of this type, exactly.")] = None,
        first: First = 50, after: After = None,
    ) -> Connection[Action]:
        page = await registry.list_actions(info.context.ctx, str(self.id), status=status, type=type, limit=first,
                                           cursor=after)
        return Connection.from_page(page, Action.from_row)


@strawberry.input(description="A new agent.")
class RegisterAgentInput:
    name: str = strawberry.field(description="Its name, unique in the organization.")
    description: str | None = strawberry.field(default=None, description="What it does.")
    config: JSON | None = strawberry.field(default=None, description="Its configuration: `{webhookUrl}`.")
    proposals_per_minute: int | None = strawberry.field(default=None, description="A cap on its proposals per "
                                                                                  "minute (429 past it).")

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "config": self.config,
                "proposalsPerMinute": self.proposals_per_minute}


@strawberry.input(description="The fields of an agent to replace; those left out keep their value.")
class UpdateAgentInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="A new description.")
    status: str | None = strawberry.field(default=strawberry.UNSET, description="An AgentStatus value; `disabled` "
                                                                                "is the kill switch.")
    config: JSON | None = strawberry.field(default=strawberry.UNSET, description="A new configuration.")
    proposals_per_minute: int | None = strawberry.field(default=strawberry.UNSET, description="A new cap; null "
                                                                                              "removes it.")

    def to_wire(self) -> dict[str, Any]:
        wire = {"name": self.name, "description": self.description, "status": self.status, "config": self.config,
                "proposalsPerMinute": self.proposals_per_minute}
        return {key: value for key, value in wire.items() if value is not strawberry.UNSET}
