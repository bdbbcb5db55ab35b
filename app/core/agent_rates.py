"""Per-agent proposal rates for /metrics: `gatehouse_agent_proposals_total{agent, status}`.

Label cardinality is bounded on purpose: `agent` is the agent's id for the first MAX_AGENTS distinct
agents this process sees and `other` after that; `status` is one of the three first decisions. So a
process exports at most (MAX_AGENTS + 1) x 3 series however many agents the organizations register
(every replica has its own first MAX_AGENTS; Prometheus sums by `agent` across replicas). Agent
names are not labels: they change and are chosen by clients. Read a rate with
`rate(gatehouse_agent_proposals_total{agent="agt_..."}[5m])`.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

MAX_AGENTS: Final = 200
OTHER: Final = "other"
PROPOSALS = Counter("gatehouse_agent_proposals_total", "Proposals by registered agent and first decision",
                    ["agent", "status"])
_labelled: set[str] = set()


def agent_label(agent_id: str) -> str:
    """The agent's id while fewer than MAX_AGENTS have a label of their own, else `other`."""
    if agent_id in _labelled:
        return agent_id
    if len(_labelled) < MAX_AGENTS:
        _labelled.add(agent_id)
        return agent_id
    return OTHER


def observe(agent_id: str, status: str) -> None:
    PROPOSALS.labels(agent_label(agent_id), status).inc()
