"""PostgreSQL: a runner's claim reads as many due executions as it takes, whatever the backlog.

The claim asks for the oldest N unfinished executions that are due, whose lease is free and whose
workflow has room under its `concurrency` cap. Planned from statistics (stale, or never taken on a
machine whose autovacuum is off), it read the backlog instead: a bitmap scan of
`(status, next_run_at)` over every due execution, sorted to keep N; and, for each of them, the cap's
count of held executions, which walked every execution the workflow ever ran. Measured in
tests/workflows/test_lease_reads.py (two workflows, each with 5,000 finished and 1,000 pending
executions): a claim of 10 read 6,062,010 rows. On the bench database with 3,000 pending, a claim
of 64 read 24,338 index entries and 3,000 rows (3.5 ms of 5.0).

- `executions_due` holds only unfinished executions, in due order: the ordered walk stops after N.
- `executions_held` holds only executions under a lease (`claimed_until` is cleared when one
  finishes, waits or is given back): a cap's count reads the executions held, not the history.
- `lease_executions` takes the claim (models.leases' rule, written out for this table, as 0020 did
  for deliveries) with the bitmap and sequential scans off, so its plan is the ordered walk, with or
  without statistics; PL/pgSQL keeps the plan between calls. The cap is a scalar subquery, so it
  is a filter on the rows the walk visits: written as `NOT EXISTS`, the planner made it a merge
  anti join that sorted every due execution by workflow first. ROWS is a claim's size (the runner's
  default concurrency), for the planner of the statement that joins the rows to their workflows.
SQLite (embedded, one process) keeps its ORM claim."""

from tortoise import migrations

from models.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [('models', '0020_delivery_lease_plan')]

    initial = False

    operations = [
        PostgresOnlySQL(
            [
                "CREATE INDEX IF NOT EXISTS executions_due ON executions (next_run_at)"
                " WHERE status IN ('pending', 'running', 'waiting')",
                "CREATE INDEX IF NOT EXISTS executions_held ON executions (workflow_id, claimed_until)"
                " WHERE claimed_until IS NOT NULL",
                """
CREATE OR REPLACE FUNCTION lease_executions(due_at timestamptz, how_many integer, lease_until timestamptz,
                                            skipped varchar[])
RETURNS SETOF executions LANGUAGE plpgsql VOLATILE ROWS 64
SET enable_bitmapscan = off SET enable_seqscan = off
AS $$
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT j.id FROM executions j
        WHERE j.status IN ('pending', 'running', 'waiting') AND j.next_run_at <= due_at
          AND j.id <> ALL(skipped)
          AND (j.claimed_until IS NULL OR j.claimed_until < due_at)
          AND COALESCE((SELECT w.concurrency > (SELECT count(*) FROM executions r
                                                WHERE r.workflow_id = j.workflow_id AND r.claimed_until >= due_at)
                        FROM workflows w WHERE w.id = j.workflow_id AND w.concurrency IS NOT NULL), true)
        ORDER BY j.next_run_at LIMIT how_many FOR UPDATE SKIP LOCKED
    )
    UPDATE executions j SET claimed_until = lease_until, lease = j.lease + 1, updated_at = due_at,
        status = CASE WHEN j.status = 'waiting' THEN 'running' ELSE j.status END
    FROM due WHERE j.id = due.id
    RETURNING j.*;
END
$$
""",
            ],
            reverse_sql=[
                "DROP FUNCTION IF EXISTS lease_executions(timestamptz, integer, timestamptz, varchar[])",
                "DROP INDEX IF EXISTS executions_held",
                "DROP INDEX IF EXISTS executions_due",
            ],
        ),
    ]
