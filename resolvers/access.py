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
# The scopes that govern the organization: API keys (admin), agents, policies and reviewer groups,
# decisions. A key bound to an agent never exercises them, whatever it holds: an agent must not switch
# itself back on, mint itself a key, loosen its own rules or decide its own requests.
GOVERNING_SCOPES = {
    "admin": "manage API keys",
    "agents:write": "change agents",
    "policies:write": "change policies or reviewer groups",
    DECIDING_SCOPE: "approve or reject actions",
}


def key_denial(scopes: frozenset[str], needed: str, *, bound: bool) -> str | None:
    """`denial_reason` for a key that may be bound to an agent, which is refused the governing scopes."""
    if bound and needed in GOVERNING_SCOPES:
        return f"a key bound to an agent cannot {GOVERNING_SCOPES[needed]}"
    return denial_reason(scopes, needed)


def decider_denial(scopes: list[str], agent_id: str | None) -> str | None:
    """None when a live key with `scopes` (bound to `agent_id`, if any) may approve and reject, else why not."""
    return key_denial(frozenset(scopes), DECIDING_SCOPE, bound=agent_id is not None)


def require(ctx: Context, needed: str) -> None:
    """Raise Forbidden unless the caller's key carries `needed`, and is not bound to an agent when
    `needed` governs the organization (GOVERNING_SCOPES)."""
    reason = key_denial(ctx.scopes, needed, bound=ctx.agent_id is not None)
    if reason is not None:
        raise Forbidden(reason)


def validate_scopes(scopes: list[str], *, bound: bool = False) -> list[str]:
    """Normalise a requested scope list, refusing unknown names, and governing ones for a key bound to
    an agent (admin among them, since it implies the others)."""
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise Invalid(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(KNOWN_SCOPES))}")
    if not scopes:
        raise Invalid("at least one scope is required")
    governing = sorted(set(scopes) & GOVERNING_SCOPES.keys()) if bound else []
    if governing:
        raise Invalid(f"a key bound to an agent cannot hold {', '.join(governing)}: it proposes, never governs",
                      details={"path": "scopes"})
    return sorted(set(scopes))
