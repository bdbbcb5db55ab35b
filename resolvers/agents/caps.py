"""Per-agent proposal caps: at most `proposalsPerMinute` proposals a minute for one agent (429).

Counted by the same fixed-window limiter as the API keys' budgets (app/ratelimit.py: Redis when
replicas share one, memory otherwise), under its own key, so one agent's cap never touches another
agent or the key's own budget. The transport puts the limiter in `Services.extras[LIMITER]`; where
there is none (a worker, the CLI) no cap applies.
"""

from __future__ import annotations

from typing import Final, Protocol

from models.agents import Agent
from resolvers.context import Context
from resolvers.errors import RateLimited

LIMITER: Final = "rate_limiter"


class Verdict(Protocol):
    allowed: bool

    def headers(self) -> dict[str, str]: ...

    def retry_after(self) -> int: ...


class Limiter(Protocol):
    async def hit(self, key_id: str, limit: int) -> Verdict: ...


async def take(ctx: Context, agent: Agent) -> None:
    """Count one proposal against the agent's cap, or raise RateLimited with its budget's headers."""
    cap = agent.proposals_per_minute
    limiter: Limiter | None = ctx.services.extras.get(LIMITER)
    if cap is None or limiter is None:
        return
    verdict = await limiter.hit(f"agent:{agent.id}", cap)
    if not verdict.allowed:
        raise RateLimited(f"agent {agent.name} may propose at most {cap} actions per minute",
                          retry_after=verdict.retry_after(), headers=verdict.headers())
