"""An agent as the wire shows it (the `apaai` SDK's `Agent`), used by REST, events and GraphQL alike."""

from __future__ import annotations

import re
from typing import Any

from app.core.clock import isoformat_z
from models.agents import Agent
from resolvers.errors import Invalid

_NOT_SLUG = re.compile(r"[^\w]+", re.UNICODE)


def slug_of(name: str) -> str:
    """Lower-case words joined by `-`; two names with the same slug are the same name."""
    slug = _NOT_SLUG.sub("-", name.lower()).strip("-_")
    if not slug:
        raise Invalid("name must contain a letter or a digit")
    return slug[:200]


def metrics_of(agent: Agent) -> dict[str, int]:
    return {
        "totalActions": agent.total_actions,
        "approvedActions": agent.approved_actions,
        "blockedActions": agent.blocked_actions,
        "pendingActions": agent.pending_actions,
    }


def wire(agent: Agent) -> dict[str, Any]:
    """`{id, orgId, name, slug, description, status, lastSeenAt, lastActionAt, metrics, config,
    createdAt, updatedAt}` plus `proposalsPerMinute`."""
    return {
        "id": agent.id,
        "orgId": agent.organization_id,
        "name": agent.name,
        "slug": agent.slug,
        "description": agent.description,
        "status": agent.status,
        "lastSeenAt": isoformat_z(agent.last_seen_at),
        "lastActionAt": isoformat_z(agent.last_action_at),
        "metrics": metrics_of(agent),
        "config": agent.config or {},
        "proposalsPerMinute": agent.proposals_per_minute,
        "createdAt": isoformat_z(agent.created_at),
        "updatedAt": isoformat_z(agent.updated_at),
    }
