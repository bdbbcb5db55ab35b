"""Who an MCP caller is: the actor comes from the API key, never from tool arguments.

A key's name is read once per NAME_TTL_SECONDS per process (every MCP proposal needs it, and a query
per call was a seventh of propose_action's server time); a key is never renamed, and a revoked
key is refused by authentication before this runs.
"""

from __future__ import annotations

import time
from typing import Any

from models.api_keys import ApiKey
from resolvers.context import Context

NAME_TTL_SECONDS = 60.0
NAMES_KEPT = 10_000
_names: dict[str, tuple[str, float]] = {}


async def _key_name(ctx: Context) -> str:
    if ctx.key_id is None:
        return "unknown"
    now = time.monotonic()
    known = _names.get(ctx.key_id)
    if known is not None and known[1] > now:
        return known[0]
    key = await ApiKey.get_or_none(id=ctx.key_id, organization_id=ctx.organization_id).only("id", "name")
    name = key.name if key is not None else "unknown"
    if len(_names) >= NAMES_KEPT:
        _names.clear()
    _names[ctx.key_id] = (name, now + NAME_TTL_SECONDS)
    return name


async def actor_of(ctx: Context) -> dict[str, Any]:
    """The proposing actor of an MCP call: an agent named after the caller's key.

    (When keys are bound to agents, this is the one place that changes to name that agent.)
    """
    return {"kind": "agent", "name": await _key_name(ctx), "provider": "mcp"}
