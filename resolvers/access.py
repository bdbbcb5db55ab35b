"""Scopes: who may do what. A write scope implies reading the same resource."""

from __future__ import annotations

from resolvers.context import Context
from resolvers.errors import Forbidden, Invalid

RESOURCES = (
    "actions", "approvals", "policies", "workflows", "credentials", "connectors", "webhooks", "events", "agents",
    "audit",
)
READ_ONLY = frozenset({"events", "audit"})  # nothing writes them through a scope: they are records of changes
WRITE_SCOPES = frozenset(f"{r}:write" for r in RESOURCES if r not in READ_ONLY)
READ_SCOPES = frozenset(f"{r}:read" for r in RESOURCES)
KNOWN_SCOPES = WRITE_SCOPES | READ_SCOPES | {"admin", "*:read"}


def denial_reason(scopes: frozenset[str], needed: str) -> str | None:
    """None when `scopes` grant `needed`, else a sentence saying what is missing."""
    if "admin" in scopes or needed in scopes:
        return None
    resource, _, verb = needed.partition(":")
    if verb == "read" and ("*:read" in scopes or f"{resource}:write" in scopes):
        return None
    return f"this API key lacks the '{needed}' scope"


DECIDING_SCOPE = "approvals:write"


def require(ctx: Context, needed: str) -> None:
    """Raise Forbidden unless the caller's key carries `needed`. A key bound to an agent never
    decides (approves or rejects) anything, whatever its scopes: an agent does not decide its own
    requests."""
    if needed == DECIDING_SCOPE and ctx.agent_id is not None:
        raise Forbidden("a key bound to an agent cannot approve or reject actions")
    reason = denial_reason(ctx.scopes, needed)
    if reason is not None:
        raise Forbidden(reason)


def validate_scopes(scopes: list[str]) -> list[str]:
    """Normalise a requested scope list, refusing unknown names."""
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise Invalid(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_SCOPES))}")
    if not scopes:
        raise Invalid("at least one scope is required")
    return sorted(set(scopes))
