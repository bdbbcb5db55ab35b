"""`lastSeenAt`: when a key bound to the agent was last used, written at most once a minute.

Each process asks at most once a minute per agent, and the update itself only moves a timestamp
older than a minute, so however many replicas see the agent, its row is written at most once a
minute for this.
"""

from __future__ import annotations

import time
from datetime import timedelta

from tortoise.expressions import Q

from app.core.clock import utcnow
from models.agents import Agent
from resolvers.agents.counters import LIVENESS_SECONDS

_next_write: dict[str, float] = {}  # agent id -> monotonic time before which this process skips it
MAX_REMEMBERED = 100_000


def due(agent_id: str) -> bool:
    """True (and remembered) when this process has not written the agent's lastSeenAt this minute."""
    now = time.monotonic()
    if _next_write.get(agent_id, 0.0) > now:
        return False
    if len(_next_write) >= MAX_REMEMBERED:
        _next_write.clear()
    _next_write[agent_id] = now + LIVENESS_SECONDS
    return True


async def seen(agent_id: str) -> None:
    """Record that the agent is alive now, unless it was recorded less than a minute ago."""
    now = utcnow()
    stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lte=now - timedelta(seconds=LIVENESS_SECONDS))
    await Agent.filter(stale, id=agent_id).update(last_seen_at=now)
