"""PostgreSQL: the dispatcher's lease reads as many due deliveries as it takes, whatever the backlog.

The lease asks for the oldest N pending deliveries whose lease is free. Planned from statistics,
that is an ordered walk of the partial index `webhook_deliveries_due` that stops after N rows. But
the statistics are whatever the last ANALYZE saw (never, on a machine whose autovacuum is off; on
others, usually a table of finished deliveries), so the planner takes the pending backlog for a few
rows and picks a bitmap scan: it reads every pending delivery and sorts them all to keep N. A burst
then costs each lease its whole backlog, paid again by every lease that drains it. Measured on the
bench database with 3,000 pending deliveries leased 32 at a time: the scan read 1,720 rows for 32
(1.78 ms of a 2.86 ms lease); the ordered walk read 32 (0.12 ms of 1.24 ms).

`lease_webhook_deliveries` takes the lease (models.leases' rule, written out for this table)
with the bitmap and sequential scans off, so its plan is the ordered walk, and the update finds the
picked rows by primary key, with or without statistics; PL/pgSQL keeps the plan between calls. Its
ROWS is a lease's size, for the planner of the statement that joins the leased rows to their
webhooks (resolvers.webhooks.leases); left at the default 1,000, that join also scanned the table.
SQLite (embedded, one process) keeps its ORM lease."""

from tortoise import migrations

from models.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [('models', '0019_lighter_delivery_writes')]

    initial = False

    operations = [
        PostgresOnlySQL(
            [
                """
CREATE OR REPLACE FUNCTION lease_webhook_deliveries(due_at timestamptz, how_many integer, lease_until timestamptz)
RETURNS SETOF webhook_deliveries LANGUAGE plpgsql VOLATILE ROWS 64
SET enable_bitmapscan = off SET enable_seqscan = off
AS $$
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.status = 'pending' AND d.next_attempt_at <= due_at
          AND (d.claimed_until IS NULL OR d.claimed_until < due_at)
        ORDER BY d.next_attempt_at LIMIT how_many FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries j SET claimed_until = lease_until FROM due WHERE j.id = due.id RETURNING j.*;
END
$$
""",
            ],
            reverse_sql=["DROP FUNCTION IF EXISTS lease_webhook_deliveries(timestamptz, integer, timestamptz)"],
        ),
    ]
