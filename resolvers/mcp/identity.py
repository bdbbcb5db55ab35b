"""Who an MCP caller is: the actor comes from the API key, never from tool arguments.

A key bound to an agent (issue 15) is that agent. Its proposals name only the kind (`agent`): the
proposal resolver checks the binding and stamps the agent's current name and id as verified
(resolvers/agents/identity.as_proposed), so a rename takes effect on the next call, on every replica.
Naming the agent here from a per-process cache made every proposal of a renamed agent's key a 403
("cannot propose as agent <old name>") until the cache expired, and changed the request's fingerprint,
so a retry with the same idempotency key was a 409. Any other key is an agent named after the key,
self-declared like any unbound key's actor; a key's name is read once per NAME_TTL_SECONDS per
process (every MCP proposal needs it, and a query per call was a seventh of propose_action's server
time): a key is never renamed, and a revoked key is refused by authentication before this runs.
"""

from __future__ import annotations

import time
from typing import Any

from models.agents import Agent
from models.api_keys import ApiKey
from resolvers.context import Context

NAME_TTL_SECONDS = 60.0
NAMES_KEPT = 10_000
_names: dict[str, tuple[str, float]] = {}


async def _key_name(ctx: Context) -> str:
    """The (never renamed) key's name, kept NAME_TTL_SECONDS."""
    owner = ctx.key_id
    if owner is None:
        return "unknown"
    now = time.monotonic()
    known = _names.get(owner)
    if known is not None and known[1] > now:
        return known[0]
    key = await ApiKey.get_or_none(id=owner, organization_id=ctx.organization_id).only("id", "name")
    name = key.name if key is not None else "unknown"
    if len(_names) >= NAMES_KEPT:
        _names.clear()
    _names[owner] = (name, now + NAME_TTL_SECONDS)
    return name


async def actor_of(ctx: Context) -> dict[str, Any]:
    """The actor an MCP call proposes as: `{kind: agent}` for a key bound to an agent (the proposal
    resolver names it), else an agent named after the key."""
    if ctx.agent_id is not None:
        return {"kind": "agent"}
    return {"kind": "agent", "name": await _key_name(ctx), "provider": "mcp"}


async def judged_actor(ctx: Context) -> dict[str, Any]:
    """The actor as the policies will see this caller's proposal (what the proposal resolver makes of
    `actor_of`: a bound key's agent by its current name and id, verified): the gateway judges which
    tools to offer by it, so a rule on `agentId` or `actor.verified` offers what it would approve."""
    if ctx.agent_id is None:
        return {**await actor_of(ctx), "agentId": None, "verified": False}
    agent = await Agent.get_or_none(id=ctx.agent_id, organization_id=ctx.organization_id).only("id", "name")
    if agent is None:  # the proposal resolver refuses such a key
        return {"kind": "agent", "name": None, "agentId": None, "verified": False}
    return {"kind": "agent", "name": agent.name, "agentId": agent.id, "verified": True}
