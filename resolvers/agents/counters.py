"""An agent's four counts, changed with the action they count, never recounted.

A proposal adds one to `totalActions` and to the bucket of its first status (on PostgreSQL in the
proposal's own statement: resolvers/governance/store_pg.py, `PROPOSAL_CTE` below; elsewhere in its
transaction: `proposed`). A decision moves one from `pendingActions` to `approvedActions` or
`blockedActions` (rejected or expired) in the decision's transaction (`decided`). Each change is one
`UPDATE ... SET n = n + 1` under the row's lock, so concurrent proposals never lose an increment and
`total = approved + blocked + pending` holds after every commit. An action whose `agentId` names no
registered agent of its organization (free text a client sent) changes nothing.

`lastActionAt` rides on the same update and moves at most once a minute (`LIVENESS_SECONDS`): the
row is written per proposal anyway, the timestamp is not churned.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from tortoise.expressions import F, Q

from models.agents import Agent
from models.governance import Action

LIVENESS_SECONDS: Final = 60
AGENT_ID_PREFIX: Final = "agt_"
BUCKET: Final = {"approved": "approved_actions", "pending_approval": "pending_actions",
                 "rejected": "blocked_actions", "expired": "blocked_actions",
                 "cancelled": "blocked_actions"}  # withdrawn by its proposer: it did not happen


def proposal_cte(status: str, agent: str, org: str, now: str) -> str:
    """The `UPDATE agents` part of the one-statement proposal, given its parameters' SQL names."""
    def plus(bucket: str) -> str:
        states = ", ".join(f"'{s}'" for s, b in BUCKET.items() if b == bucket)
        return f"{bucket} = {bucket} + CASE WHEN {status}::varchar IN ({states}) THEN 1 ELSE 0 END"

    return f"""UPDATE agents SET total_actions = total_actions + 1,
        {plus("approved_actions")}, {plus("blocked_actions")}, {plus("pending_actions")},
        last_action_at = CASE WHEN last_action_at IS NULL
            OR last_action_at <= {now}::timestamptz - interval '{LIVENESS_SECONDS} seconds'
            THEN {now}::timestamptz ELSE last_action_at END
    WHERE id = {agent}::varchar AND organization_id = {org}::varchar"""


def _counted(action: Action) -> bool:
    return action.agent_id is not None and action.agent_id.startswith(AGENT_ID_PREFIX)


async def proposed(action: Action) -> None:
    """Count a new action for its agent, inside the proposal's transaction (the ORM path)."""
    if not _counted(action):
        return
    mine = Agent.filter(id=action.agent_id, organization_id=action.organization_id)
    await mine.update(total_actions=F("total_actions") + 1, **{BUCKET[action.status]: F(BUCKET[action.status]) + 1})
    minute_ago = action.created_at - timedelta(seconds=LIVENESS_SECONDS)
    stale = Q(last_action_at__isnull=True) | Q(last_action_at__lte=minute_ago)
    await mine.filter(stale).update(last_action_at=action.created_at)


async def decided(action: Action, conn: Any) -> None:
    """Move a decided action out of its agent's pending count, inside the decision's transaction."""
    if not _counted(action) or action.status not in BUCKET or action.status == "pending_approval":
        return
    bucket = BUCKET[action.status]
    await Agent.filter(id=action.agent_id, organization_id=action.organization_id).using_db(conn).update(
        pending_actions=F("pending_actions") - 1, **{bucket: F(bucket) + 1}
    )
