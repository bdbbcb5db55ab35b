"""The durable-job primitive both workers use: lease due rows, so each is worked on by one worker.

A job table has `id`, `claimed_until` and its own due condition (webhook deliveries: pending and
`next_attempt_at` passed; workflow executions: unfinished and `next_run_at` passed). A worker takes
up to N due rows whose lease is free, oldest due first, under FOR UPDATE SKIP LOCKED (PostgreSQL),
so concurrent workers take disjoint rows without waiting on each other, and sets `claimed_until`.
A worker that dies simply lets its leases lapse; the rows are then due for another one.

Every write a worker makes afterwards is fenced, so a worker whose lease lapsed (and whose row
another worker took) changes nothing: deliveries fence on the attempt count the lease saw,
executions on a `lease` number the claim increments (`fence`). The statement's parameters are
fixed: $1 now, $2 how many, $3 the lease's end; the caller's condition and final SELECT may use
more. SQLite (one embedded process, no row locks to skip) uses `lease_is_free` in the ORM. The
webhook dispatcher runs this statement from a PL/pgSQL function (migration 0020,
`lease_webhook_deliveries`) that fixes its plan; a change to the lease's rule changes both.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q


def lease_statement(table: str, *, due: str, order: str, fence: str | None = None, also_set: str = "",
                    then: str = "SELECT * FROM leased") -> str:
    """One statement that leases due rows of `table` and answers `then` over `leased` (the rows as
    updated). `due` and `order` are SQL on the table's columns (alias `j`); `fence` names an integer
    column the lease increments; `also_set` adds assignments (`, status = ...`)."""
    bump = f", {fence} = j.{fence} + 1" if fence else ""
    return f"""
WITH due AS (
    SELECT j.id FROM {table} j
    WHERE ({due}) AND (j.claimed_until IS NULL OR j.claimed_until < $1)
    ORDER BY {order} LIMIT $2 FOR UPDATE SKIP LOCKED
), leased AS (
    UPDATE {table} j SET claimed_until = $3{bump}{also_set}
    FROM due WHERE j.id = due.id
    RETURNING j.*
)
{then}
"""


def lease_is_free(now: datetime) -> Q:
    """The ORM's form of the same condition: nobody holds the row now."""
    return Q(claimed_until=None) | Q(claimed_until__lt=now)
