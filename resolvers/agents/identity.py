"""Who proposes: the agent a key is bound to (verified), or whatever the body says (self-declared).

A key bound to an agent proposes as that agent only: the stored actor is `{kind: agent, name: <its
name>}` and the action carries its id; a body naming another actor or agent is refused (403). A key
bound to no agent keeps the old behaviour (the body's actor is stored as sent) and its actions say
`actor.verified: false`; if its `agentId` names a registered agent of the organization the action is
still counted for that agent and stopped by its kill switch (stopping is always safe), but rules
asking for `actor.verified: true` never match it.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.agents import Agent
from resolvers.agents.counters import AGENT_ID_PREFIX
from resolvers.context import Context
from resolvers.errors import Forbidden
from resolvers.governance.inputs import ProposalIn


@dataclass(slots=True, frozen=True)
class Proposer:
    """The registered agent an action is counted for (None: no such agent) and whether it is proven."""

    agent: Agent | None
    verified: bool


async def proposer_of(ctx: Context, spec: ProposalIn) -> Proposer:
    if ctx.agent_id is not None:
        agent = await Agent.get_or_none(id=ctx.agent_id, organization_id=ctx.organization_id)
        if agent is None:
            raise Forbidden("the agent this API key is bound to no longer exists")
        _check_claims(agent, spec)
        return Proposer(agent, True)
    named = spec.agentId
    if named is not None and named.startswith(AGENT_ID_PREFIX) and len(named) <= 32:
        return Proposer(await Agent.get_or_none(id=named, organization_id=ctx.organization_id), False)
    return Proposer(None, False)


def _check_claims(agent: Agent, spec: ProposalIn) -> None:
    """403 when the body of a bound key's proposal names anyone but its agent."""
    actor = spec.actor
    if actor.kind != "agent" or (actor.name is not None and actor.name != agent.name):
        raise Forbidden(f"this API key is bound to agent {agent.name} ({agent.id}); it cannot propose as "
                        f"{actor.kind} {actor.name or ''}".rstrip())
    if spec.agentId is not None and spec.agentId != agent.id:
        raise Forbidden(f"this API key is bound to agent {agent.id}; it cannot propose for {spec.agentId}")


def as_proposed(spec: ProposalIn, proposer: Proposer) -> ProposalIn:
    """The proposal as it is stored: a verified agent's own name and id replace what the body said."""
    agent = proposer.agent
    if not proposer.verified or agent is None:
        return spec
    actor = spec.actor.model_copy(update={"kind": "agent", "name": agent.name})
    return spec.model_copy(update={"actor": actor, "agentId": agent.id})
