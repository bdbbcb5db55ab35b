"""Who an MCP caller is: the actor comes from the API key, never from tool arguments.

A key bound to an agent (issue 15) is that agent: `{kind: agent, name: <the agent's name>}`, which
the proposal resolver checks and stamps as verified. Any other key is an agent named after the key,
self-declared like any unbound key's actor. A key's or an agent's name is read once per
NAME_TTL_SECONDS per process (every MCP proposal needs it, and a query per call was a seventh of
propose_action's server time); a key is never renamed, and a revoked key is refused by
authentication before this runs.
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


async def _name(ctx: Context) -> str:
    """The bound agent's name, else the key's (kept NAME_TTL_SECONDS; an agent renamed meanwhile is
    caught by the proposal resolver, which refuses a bound key naming anyone but its agent)."""
    owner = ctx.agent_id or ctx.key_id
    if owner is None:
        return "unknown"
    now = time.monotonic()
    known = _names.get(owner)
    if known is not None and known[1] > now:
        return known[0]
    if ctx.agent_id is not None:
        agent = await Agent.get_or_none(id=ctx.agent_id, organization_id=ctx.organization_id).only("id", "name")
        name = agent.name if agent is not None else "unknown"
    else:
        key = await ApiKey.get_or_none(id=owner, organization_id=ctx.organization_id).only("id", "name")
        name = key.name if key is not None else "unknown"
    if len(_names) >= NAMES_KEPT:
        _names.clear()
    _names[owner] = (name, now + NAME_TTL_SECONDS)
    return name


async def actor_of(ctx: Context) -> dict[str, Any]:
    """The proposing actor of an MCP call: the key's agent, or an agent named after the key."""
    if ctx.agent_id is not None:
        return {"kind": "agent", "name": await _name(ctx)}
    return {"kind": "agent", "name": await _name(ctx), "provider": "mcp"}
