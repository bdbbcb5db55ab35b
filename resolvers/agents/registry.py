"""The agent registry: register, read, list, change, disable, and an agent's actions.

Names are unique per organization (through their slug: `Sales Bot` and `sales-bot` are one name);
a second one is 409. Deleting disables and keeps the row and its history. Disabling, by PATCH
status or DELETE, is the kill switch (resolvers/agents/killswitch.py).
"""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.ids import new_id
from models.agents import Agent
from models.governance import Action
from resolvers.access import require
from resolvers.agents import killswitch
from resolvers.agents.inputs import STATUSES, AgentIn, AgentPatch
from resolvers.agents.records import slug_of, wire
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid
from resolvers.events.outbox import emit
from resolvers.governance.actions import action_filters
from resolvers.governance.inputs import parse
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_name

EDITABLE = ["name", "slug", "description", "status", "config", "proposals_per_minute", "updated_at"]


async def register(ctx: Context, data: Any) -> Agent:
    """A new active agent (409 when its name is taken in the organization)."""
    require(ctx, "agents:write")
    spec = parse(AgentIn, data)
    name = check_name(spec.name)
    agent = Agent(
        id=new_id("agt"), organization_id=ctx.organization_id, name=name, slug=slug_of(name),
        description=spec.description, status="active", proposals_per_minute=spec.proposalsPerMinute,
        config=spec.config.model_dump(exclude_none=True) if spec.config else {},
    )
    try:
        async with atomic():
            await agent.save(force_create=True)
            await emit(ctx.services, ctx.organization_id, "agent.registered", wire(agent))
            await trail.record(ctx, "agent.registered", agent.id, trail.created(_audited(agent)))
    except IntegrityError:
        raise Conflict(f"an agent named {name!r} already exists in this organization") from None
    return agent


async def get(ctx: Context, agent_id: str) -> Agent:
    require(ctx, "agents:read")
    return await owned(Agent, ctx, agent_id, "agent")


async def list_agents(
    ctx: Context, *, status: str | None = None, limit: int | None = None, cursor: str | None = None
) -> Page[Agent]:
    require(ctx, "agents:read")
    query = Agent.filter(organization_id=ctx.organization_id)
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}")
        query = query.filter(status=status)
    return await paginate(query, limit, cursor)


async def update(ctx: Context, agent_id: str, data: Any) -> Agent:
    """Change what the client sent; setting status `disabled` throws the kill switch."""
    require(ctx, "agents:write")
    changes = parse(AgentPatch, data).changes()
    try:
        async with atomic() as conn:
            agent = await owned(Agent, ctx, agent_id, "agent", conn=conn, lock=True)
            stopping = changes.get("status") == "disabled" and agent.status != "disabled"
            before = _audited(agent)
            _apply(agent, changes)
            await agent.save(using_db=conn, update_fields=EDITABLE)  # never the counts: they move by SQL
            await emit(ctx.services, ctx.organization_id, "agent.updated", wire(agent))
            if stopping:
                await emit(ctx.services, ctx.organization_id, "agent.disabled", wire(agent))
            await trail.record(ctx, "agent.disabled" if stopping else "agent.updated", agent.id,
                               trail.diff(before, _audited(agent)), conn)
    except IntegrityError:
        raise Conflict(f"an agent named {changes.get('name')!r} already exists in this organization") from None
    if stopping:
        await killswitch.stop(ctx.services, agent)
    return await owned(Agent, ctx, agent_id, "agent")


def _audited(agent: Agent) -> dict[str, Any]:
    """What the audit trail compares (not the live counts, which every proposal moves)."""
    return {"name": agent.name, "slug": agent.slug, "description": agent.description, "status": agent.status,
            "config": agent.config, "proposalsPerMinute": agent.proposals_per_minute}


def _apply(agent: Agent, changes: dict[str, Any]) -> None:
    if changes.get("name") is not None:
        agent.name = check_name(changes["name"])
        agent.slug = slug_of(agent.name)
    if "description" in changes:
        agent.description = changes["description"]
    if changes.get("status") is not None:
        agent.status = changes["status"]
    if "config" in changes:
        config = changes["config"]
        agent.config = config.model_dump(exclude_none=True) if config is not None else {}
    if "proposalsPerMinute" in changes:
        agent.proposals_per_minute = changes["proposalsPerMinute"]
    agent.updated_at = utcnow()


async def disable(ctx: Context, agent_id: str) -> Agent:
    """The kill switch (DELETE /agents/{id}, disableAgent): idempotent, keeps the row and history."""
    return await update(ctx, agent_id, {"status": "disabled"})


async def list_actions(
    ctx: Context, agent_id: str, *, status: str | None = None, type: str | None = None,
    limit: int | None = None, cursor: str | None = None,
) -> Page[Action]:
    """The agent's actions, newest first, filtered as the organization's are (scopes agents:read and
    actions:read)."""
    agent = await get(ctx, agent_id)
    require(ctx, "actions:read")
    filters = action_filters(status=status, type=type)
    return await paginate(Action.filter(organization_id=ctx.organization_id, agent_id=agent.id, **filters),
                          limit, cursor)

