"""REST: /agents at the root (as the `apaai` SDK calls it) and under /api/v1. Parse, call
resolvers.agents.registry, serialise in the SDK's `Agent` shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from app.rest.actions import ActionListQuery, serialise_action
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from resolvers.agents import registry
from resolvers.agents.inputs import AgentIn, AgentPatch
from resolvers.agents.records import wire

TAGS = ["agents"]


class AgentListQuery(ListQuery):
    status: str | None = None


class AgentMetricsOut(BaseModel):
    totalActions: int
    approvedActions: int
    blockedActions: int
    pendingActions: int


class AgentOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    orgId: str
    name: str
    slug: str
    description: str | None
    status: str
    lastSeenAt: str | None
    lastActionAt: str | None
    metrics: AgentMetricsOut
    config: dict[str, Any]
    proposalsPerMinute: int | None
    createdAt: str
    updatedAt: str


@endpoint("POST", "/agents", summary="Register an agent", tags=TAGS, body=AgentIn,
          scopes=("agents:write",), response=AgentOut, status=201, also_at_root=True, errors=(409,))
async def register_agent(call: RestCall) -> dict[str, Any]:
    return wire(await registry.register(call.ctx, call.body))


@endpoint("GET", "/agents", summary="List agents", tags=TAGS, query=AgentListQuery, response=list[AgentOut],
          scopes=("agents:read",), also_at_root=True)
async def list_agents(call: RestCall) -> Response:
    q: AgentListQuery = call.query
    page = await registry.list_agents(call.ctx, status=q.status, limit=q.limit, cursor=q.cursor)
    return list_response(call.request, page.items, page.next_cursor, wire)


@endpoint("GET", "/agents/{id}", summary="Get an agent", tags=TAGS, response=AgentOut, also_at_root=True)
async def get_agent(call: RestCall) -> dict[str, Any]:
    return wire(await registry.get(call.ctx, call.path["id"]))


@endpoint("PATCH", "/agents/{id}", summary="Change an agent (status `disabled` is the kill switch)", tags=TAGS,
          body=AgentPatch, scopes=("agents:write",), response=AgentOut, also_at_root=True, errors=(409,))
async def update_agent(call: RestCall) -> dict[str, Any]:
    return wire(await registry.update(call.ctx, call.path["id"], call.body))


@endpoint("DELETE", "/agents/{id}", summary="Disable an agent (kept with its history)", tags=TAGS,
          response=AgentOut, also_at_root=True)
async def delete_agent(call: RestCall) -> dict[str, Any]:
    return wire(await registry.disable(call.ctx, call.path["id"]))


@endpoint("GET", "/agents/{id}/actions", summary="List an agent's actions", tags=TAGS, query=ActionListQuery,
          scopes=("agents:read", "actions:read"), also_at_root=True)
async def list_agent_actions(call: RestCall) -> Response:
    q: ActionListQuery = call.query
    page = await registry.list_actions(call.ctx, call.path["id"], status=q.status, type=q.type, limit=q.limit,
                                       cursor=q.cursor)
    return list_response(call.request, page.items, page.next_cursor, lambda a: serialise_action(a, call.ctx.key_id))
