"""The durable-job primitive both workers use: lease due rows, so each is worked on by one worker.

A job table has `id`, `claimed_until` and its own due condition (webhook deliveries: pending and
`next_attempt_at` passed; workflow executions: unfinished and `next_run_at` passed). A worker takes
up to N due rows whose lease is free, oldest due first, under FOR UPDATE SKIP LOCKED (PostgreSQL),
so concurrent workers take disjoint rows without waiting on each other, and sets `claimed_until`.
A worker that dies simply lets its leases lapse; the rows are then due for another one.

Every write a worker makes afterwards is fenced, so a worker whose lease lapsed (and whose row
another worker took) changes nothing: deliveries fence on the attempt count the lease saw,
executions on a `lease` number the claim increments. SQLite (one embedded process, no row locks to
skip) uses `lease_is_free` in the ORM. On PostgreSQL each table's lease is a PL/pgSQL function that
fixes its plan to an ordered walk of the due rows (migrations 0020, `lease_webhook_deliveries`, and
0021, `lease_executions`): planned from statistics, a lease read the whole backlog. A change to the
lease's rule changes the function and the ORM's form.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q


def lease_is_free(now: datetime) -> Q:
    """The ORM's form of the same condition: nobody holds the row now."""
    return Q(claimed_until=None) | Q(claimed_until__lt=now)
