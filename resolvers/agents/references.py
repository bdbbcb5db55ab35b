"""Other objects naming an agent (a key's binding, a rule's `agentId`) must name one of their own
organization's agents: another organization's id and an unknown one are the same 400."""

from __future__ import annotations

from collections.abc import Iterable

from models.agents import Agent
from resolvers.errors import Invalid


async def check_agents(organization_id: str, agent_ids: Iterable[str], where: str) -> None:
    """Invalid naming `where` unless every id is an agent of `organization_id`."""
    for agent_id in sorted(set(agent_ids)):
        if len(agent_id) > 32 or not await Agent.exists(id=agent_id, organization_id=organization_id):
            raise Invalid(f"{where}: agent {agent_id} not found in this organization", details={"path": where})
