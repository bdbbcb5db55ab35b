"""The runner's hold on executions: claim the due ones, renew while running, fence every write.

The durable-job primitive webhook deliveries use too (models/leases.py): a due row is claimed under
FOR UPDATE SKIP LOCKED (PostgreSQL) with a `claimed_until` lease and an incremented `lease` number
(its fence); every later write names that number, so a worker whose lease expired (and whose
execution another worker took over) changes nothing. A per-workflow `concurrency` caps how many
of its executions are held at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asyncpg import Record
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from app.core.after_commit import atomic
from app.core.clock import utcnow
from models.db import pg_fetch
from models.leases import lease_is_free
from models.workflows import Execution, Workflow
from resolvers.context import Services

UNFINISHED = ("pending", "running", "waiting")


@dataclass(slots=True, frozen=True)
class Claim:
    execution_id: str
    lease: int
    execution: Execution | None = field(default=None, compare=False, repr=False)  # as claimed (PostgreSQL)
    # whether its workflow was deleted, as the claim read it (PostgreSQL); None: not read
    workflow_deleted: bool | None = field(default=None, compare=False, repr=False)


# models.leases' rule for executions, run by a function (migration 0021) whose plan walks the due
# index in order and stops after $2 rows: planned in the statement, stale statistics made it read the
# backlog, and each candidate's cap count every execution its workflow ever ran.
_CLAIM_PG = """
SELECT l.*, w.concurrency, w.deleted_at IS NOT NULL AS workflow_deleted,
    CASE WHEN w.concurrency IS NULL THEN 0 ELSE  -- counted only for capped workflows (their held runs)
        (SELECT count(*) FROM executions r WHERE r.workflow_id = l.workflow_id AND r.claimed_until >= $1) END AS held
FROM lease_executions($1, $2, $3, $4) l JOIN workflows w ON w.id = l.workflow_id"""


def lease_until(services: Services, now: datetime) -> datetime:
    return now + timedelta(seconds=services.settings.workflow_lease_seconds)


async def claim_due(services: Services, limit: int, skip: Sequence[str] = ()) -> list[Claim]:
    """Claim up to `limit` due executions for this worker, oldest due first, but those in `skip`
    (being claimed from their start hints at this moment: hints.py)."""
    now = utcnow()
    if services.settings.is_sqlite:
        return await _claim_orm(now, lease_until(services, now), limit)
    rows = await lease_rows(now, limit, lease_until(services, now), skip)
    kept: list[Claim] = []
    over: list[Claim] = []
    taken: dict[str, int] = {}
    for row in rows:
        claim = Claim(row["id"], row["lease"], Execution._init_from_db(**row), row["workflow_deleted"])
        limit_of = row["concurrency"]
        taken[row["workflow_id"]] = taken.get(row["workflow_id"], 0) + 1
        fits = limit_of is None or row["held"] + taken[row["workflow_id"]] <= limit_of
        (kept if fits else over).append(claim)
    for claim in over:  # one batch took more of a capped workflow than it may run: give them back
        await release(claim)
    return kept


async def lease_rows(now: datetime, limit: int, until: datetime, skip: Sequence[str],
                     conn: BaseDBAsyncClient | None = None) -> list[Record]:
    """PostgreSQL: lease up to `limit` executions due at `now` until `until`, but those in `skip`, in
    one statement (on `conn`, a transaction's connection, or a pooled one); each row carries its
    workflow's cap and how many of its executions were held when the statement began."""
    return await pg_fetch(_CLAIM_PG, now, limit, until, list(skip), conn=conn)


async def _claim_orm(now: datetime, until: datetime, limit: int) -> list[Claim]:
    """SQLite (one embedded process): the same rules, row by row."""
    claims: list[Claim] = []
    async with atomic():
        due = await Execution.filter(
            lease_is_free(now), status__in=UNFINISHED, next_run_at__lte=now
        ).order_by("next_run_at").limit(limit)
        for execution in due:
            if not await _has_room(execution.workflow_id, now):
                continue
            status = "running" if execution.status == "waiting" else execution.status
            await Execution.filter(id=execution.id, lease=execution.lease).update(
                claimed_until=until, lease=execution.lease + 1, status=status, updated_at=now)
            claims.append(Claim(execution.id, execution.lease + 1))
    return claims


async def _has_room(workflow_id: str, now: datetime) -> bool:
    workflow = await Workflow.get(id=workflow_id)
    if workflow.concurrency is None:
        return True
    return await Execution.filter(workflow_id=workflow_id, claimed_until__gte=now).count() < workflow.concurrency


async def renew(services: Services, held: list[Claim]) -> set[str]:
    """Extend the leases this worker holds; answers the ids it no longer holds (taken over,
    cancelled or finished), whose work must stop."""
    if not held:
        return set()
    until = lease_until(services, utcnow())
    lost: set[str] = set()
    for claim in held:
        updated = await Execution.filter(
            id=claim.execution_id, lease=claim.lease, status__in=("pending", "running")
        ).update(claimed_until=until)
        if not updated:
            lost.add(claim.execution_id)
    return lost


async def release(claim: Claim) -> None:
    """Give an execution back at once (its next run is due now), keeping the fence moving."""
    await Execution.filter(id=claim.execution_id, lease=claim.lease).update(
        claimed_until=None, lease=F("lease") + 1)
