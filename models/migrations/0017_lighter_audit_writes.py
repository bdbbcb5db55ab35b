"""PostgreSQL: an audit entry costs its change less. A full run measured the entry at 14% of
`POST /actions` throughput (figure 10: 2,285 against 2,602 req/s without it), on PostgreSQL's side
of a two-core machine. Two of the entry's costs go:

- the foreign key to organizations: each check locks the organization's row (FOR KEY SHARE, one
  more locker of the row every proposal already locks twice), and an audit trail must not vanish
  with its organization anyway (no organization is deleted today; if one ever is, its entries stay);
- the chain position's unique index held every unsealed entry (position NULL); it now holds sealed
  entries only, so the insert skips it and the sealer's update adds the entry. Uniqueness is the
  same: NULL positions never conflicted.

SQLite (embedded, one writer) keeps the constraints of 0014."""

from tortoise import migrations
from tortoise.migrations import operations as ops

from models.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [('models', '0016_relay_positions')]

    initial = False

    operations = [
        PostgresOnlySQL(  # SQLite cannot drop a constraint in place
            [
                "ALTER TABLE audit_entries DROP CONSTRAINT IF EXISTS audit_entries_organization_id_fkey",
                "ALTER TABLE audit_entries DROP CONSTRAINT IF EXISTS uid_audit_entri_organiz_bfb78c",
                "CREATE UNIQUE INDEX audit_entries_position ON audit_entries (organization_id, position)"
                " WHERE position IS NOT NULL",
            ],
            reverse_sql=[
                "DROP INDEX audit_entries_position",
                "ALTER TABLE audit_entries ADD CONSTRAINT uid_audit_entri_organiz_bfb78c"
                " UNIQUE (organization_id, position)",
                "ALTER TABLE audit_entries ADD CONSTRAINT audit_entries_organization_id_fkey FOREIGN KEY"
                " (organization_id) REFERENCES organizations (id) ON DELETE CASCADE",
            ],
        ),
    ]
