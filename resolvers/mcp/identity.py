"""Who an MCP caller is: the actor comes from the API key, never from tool arguments."""

from __future__ import annotations

from typing import Any

from models.api_keys import ApiKey
from resolvers.context import Context


async def actor_of(ctx: Context) -> dict[str, Any]:
    """The proposing actor of an MCP call: an agent named after the caller's key.

    (When keys are bound to agents, this is the one place that changes to name that agent.)
    """
    key = await ApiKey.get_or_none(id=ctx.key_id, organization_id=ctx.organization_id) if ctx.key_id else None
    return {"kind": "agent", "name": key.name if key is not None else "unknown", "provider": "mcp"}
