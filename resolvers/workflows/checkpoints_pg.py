"""The runner's two hot checkpoints on PostgreSQL, each one statement (its own transaction).

Through the ORM a step's start was BEGIN, the fenced UPDATE, INSERT step, INSERT event, INSERT relay
queue entry, COMMIT; its end as many again, and the execution's completion a third transaction. At
figure 7's load those round trips and Tortoise's query building around each were most of the
runner's CPU per execution (9.9 ms against 2.2 ms for the bare call). Here a data-modifying CTE
writes the same rows, fenced the same way: every write hangs off the fenced UPDATE of the execution
(`WHERE lease = $n AND status IN ('pending', 'running')`), so a worker that lost its lease writes
nothing and learns it from the statement's answer. The last step's end and the execution's
completion are one statement. The rows, events and their order are the ORM path's
(checkpoints.py); SQLite and steps that are not fresh keep that path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.data import JSON_DUMPS

from app.core.ids import new_id
from models.db import ASYNC_COMMIT, OwnConnection

# A step's start commits without waiting for its WAL flush (`synchronous_commit = off` for that
# transaction only): a crash of PostgreSQL may lose the last few starts, and losing one is what a
# worker's death already is (the step runs again with the same idempotency key); any later
# checkpoint's commit, which waits for the flush as usual, makes the start durable before it.
# After an idle moment the flush was ~0.3-2 ms of the claim's time on the test machine.

_START_FRESH: Final = f"""
WITH x AS (
    UPDATE executions SET status = 'running', started_at = COALESCE(started_at, $3::timestamptz),
        updated_at = $3::timestamptz
    WHERE id = $1::varchar AND lease = $2::int AND status IN ('pending', 'running')
    RETURNING id, organization_id
), s AS (
    INSERT INTO execution_steps (execution_id, position, name, type, status, attempts, input, reused, started_at)
    SELECT x.id, $4::int, $5::varchar, $6::varchar, 'running', 1, $7::jsonb, false, $3::timestamptz FROM x
    RETURNING id
), e AS (
    INSERT INTO events (id, organization_id, type, data, created_at)
    SELECT $8::varchar, x.organization_id, 'workflow.started', $9::jsonb, $3 FROM x WHERE $8::varchar IS NOT NULL
    RETURNING seq
), q AS (
    INSERT INTO events_unrelayed (seq) SELECT seq FROM e
)
SELECT id FROM s WHERE {ASYNC_COMMIT}
"""

_STEP_DONE: Final = """
WITH x AS (
    UPDATE executions SET
        current_step = $3::int, updated_at = $4::timestamptz,
        next_run_at = CASE WHEN $5::boolean THEN NULL ELSE $4::timestamptz END,
        status = CASE WHEN $5::boolean THEN 'completed' ELSE status END,
        output = CASE WHEN $5::boolean THEN $6::jsonb ELSE output END,
        finished_at = CASE WHEN $5::boolean THEN $4::timestamptz ELSE finished_at END,
        claimed_until = CASE WHEN $5::boolean THEN NULL ELSE claimed_until END,
        waiting_action_id = CASE WHEN $5::boolean THEN NULL ELSE waiting_action_id END
    WHERE id = $1::varchar AND lease = $2::int AND status IN ('pending', 'running')
    RETURNING id, organization_id
), s AS (
    UPDATE execution_steps SET status = $8::varchar, output = $6::jsonb, error = $9::text,
        finished_at = $4::timestamptz
    WHERE id = $7::bigint AND EXISTS (SELECT 1 FROM x)
), e AS (
    INSERT INTO events (id, organization_id, type, data, created_at)
    SELECT v.id, x.organization_id, v.type, v.data, $4::timestamptz
    FROM x, (VALUES (1, $10::varchar, 'workflow.step_completed', $11::jsonb),
                    (2, $12::varchar, 'workflow.completed', $13::jsonb)) AS v(n, id, type, data)
    WHERE v.id IS NOT NULL
    ORDER BY v.n
    RETURNING seq
), q AS (
    INSERT INTO events_unrelayed (seq) SELECT seq FROM e
), au AS (
    INSERT INTO audit_entries (id, organization_id, type, resource_id, actor, changes, created_at)
    SELECT $14::varchar, x.organization_id, 'execution.completed', x.id, 'system:workflows', $15::jsonb,
           $4::timestamptz
    FROM x WHERE $14::varchar IS NOT NULL
)
SELECT count(*) AS held FROM x
"""


_CLAIM_AND_START: Final = f"""
WITH x AS (
    UPDATE executions j SET claimed_until = $4::timestamptz, lease = j.lease + 1, status = 'running',
        started_at = $3::timestamptz, updated_at = $3::timestamptz
    WHERE j.id = $1::varchar AND j.lease = $2::int AND j.status = 'pending' AND j.started_at IS NULL
      AND j.retry_of IS NULL AND j.current_step = 0 AND j.next_run_at <= $3::timestamptz
      AND (j.claimed_until IS NULL OR j.claimed_until < $3::timestamptz)
      AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.id = j.workflow_id
                      AND (w.concurrency IS NOT NULL OR w.deleted_at IS NOT NULL))
    RETURNING j.*
), s AS (
    INSERT INTO execution_steps (execution_id, position, name, type, status, attempts, input, reused, started_at)
    SELECT x.id, 0, $5::varchar, $6::varchar, 'running', 1, $7::jsonb, false, $3::timestamptz FROM x
    RETURNING id
), e AS (
    INSERT INTO events (id, organization_id, type, data, created_at)
    SELECT $8::varchar, x.organization_id, 'workflow.started', $9::jsonb, $3 FROM x
    RETURNING seq
), q AS (
    INSERT INTO events_unrelayed (seq) SELECT seq FROM e
)
SELECT x.*, s.id AS step_id FROM x, s WHERE {ASYNC_COMMIT}
"""


async def claim_and_start(conn: BaseDBAsyncClient | OwnConnection, execution_id: str, lease: int, now: datetime,
                          until: datetime, name: str, step_type: str, rendered: Any,
                          started: dict[str, Any]) -> Any:
    """Claim a fresh execution that is still as hinted (`lease`, pending, never started, its
    workflow uncapped: a cap is counted by the usual claim; and not deleted: the usual claim cancels
    it, runner.run_claimed) and start its first step: the
    execution's row as claimed, with `step_id`; None when it is not (another runner won)."""
    async with conn.acquire_connection() as raw:
        return await raw.fetchrow(_CLAIM_AND_START, execution_id, lease, now, until, name, step_type,
                                  _json(rendered), new_id("evt"), JSON_DUMPS(started))


async def start_fresh_step(conn: BaseDBAsyncClient, execution_id: str, lease: int, now: datetime, position: int,
                           name: str, step_type: str, rendered: Any, started: dict[str, Any] | None) -> int | None:
    """Insert the step's row, running (and `workflow.started` when `started` is its data);
    the row's id, or None when the lease is lost."""
    async with conn.acquire_connection() as raw:
        step_id: int | None = await raw.fetchval(
            _START_FRESH, execution_id, lease, now, position, name, step_type, _json(rendered),
            new_id("evt") if started is not None else None, JSON_DUMPS(started) if started is not None else None)
    return step_id


async def step_done(conn: BaseDBAsyncClient, execution_id: str, lease: int, now: datetime, *, step_id: int,
                    next_step: int, status: str, output: Any, error: str | None, step_event: dict[str, Any],
                    completed_event: dict[str, Any] | None, audit: dict[str, Any] | None = None) -> bool:
    """Close the step and move the pointer; with `completed_event`, complete the execution with the
    step's output too, and append its audit entry (`audit`: its changes). False when the lease is lost
    (nothing written)."""
    completes = completed_event is not None
    async with conn.acquire_connection() as raw:
        held: int = await raw.fetchval(
            _STEP_DONE, execution_id, lease, next_step, now, completes, _json(output), step_id, status, error,
            new_id("evt"), JSON_DUMPS(step_event),
            new_id("evt") if completes else None, JSON_DUMPS(completed_event) if completes else None,
            new_id("aud") if completes else None, JSON_DUMPS(audit) if completes else None)
    return held > 0


def _json(value: Any) -> str | None:
    """A JSON column's parameter; None stays SQL NULL, as the ORM stores it."""
    return None if value is None else JSON_DUMPS(value)
