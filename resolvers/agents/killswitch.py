"""The kill switch: a disabled agent's pending actions are rejected and its live connections closed.

Its later proposals are rejected at once by `actions.propose` with the same reason (`reason_for`).
A proposal racing the switch is caught by one side or the other: the switch commits `disabled`
before it looks for pending actions, and a proposal that stored a pending action reads the agent's
status again afterwards (`actions.propose`), so one of the two always sees the other's write.
Rejecting is idempotent (a row already decided is skipped under its lock). Re-enabling revives
nothing: rejected actions stay rejected.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from app.core.after_commit import atomic
from models.agents import Agent
from models.governance import Action
from resolvers.audit import trail
from resolvers.context import Services
from resolvers.governance.lifecycle import close_without_review

DISABLED_CHANNEL: Final = "gatehouse:agents:disabled"  # message: the agent id; every replica closes its sockets
BY: Final = "system:kill-switch"


def reason_for(agent: Agent) -> str:
    return f"agent {agent.name} ({agent.id}) is disabled"


async def reject_pending(services: Services, agent: Agent) -> int:
    """Reject every pending action of the agent in one transaction; returns how many."""
    reason = reason_for(agent)
    async with atomic() as conn:
        query = Action.filter(organization_id=agent.organization_id, agent_id=agent.id,
                              status="pending_approval").order_by("id")  # the lock order forget_revoked uses
        if not services.settings.is_sqlite:
            query = query.select_for_update()
        pending = await query.using_db(conn)
        for action in pending:
            system = trail.Actor.system(action.organization_id, BY)
            await close_without_review(services, system, action, "rejected", BY, reason, conn)
    return len(pending)


async def stop(services: Services, agent: Agent) -> None:
    """Everything the switch does once `disabled` is committed."""
    await reject_pending(services, agent)
    await services.bus.publish(DISABLED_CHANNEL, agent.id.encode())


async def still_enabled(agent: Agent) -> bool:
    """The agent's status as committed now (the second look of a racing proposal)."""
    return await enabled(agent.organization_id, agent.id)


async def disabled_among(agent_ids: Collection[str]) -> list[str]:
    """Those of `agent_ids` disabled by now: a server's check on its open connections, in case the bus
    lost DISABLED_CHANNEL's message (Redis pub/sub keeps nothing)."""
    found = await Agent.filter(id__in=list(agent_ids), status="disabled").values_list("id", flat=True)
    return [str(agent_id) for agent_id in found]


async def enabled(organization_id: str, agent_id: str) -> bool:
    return await Agent.filter(id=agent_id, organization_id=organization_id).exclude(status="disabled").exists()
