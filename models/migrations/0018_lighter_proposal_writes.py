"""PostgreSQL: a proposal writes fewer index entries and locks its organization's row less.

Every `POST /actions` inserts an action and its event; each of those rows paid for things only
some rows need:

- the foreign keys from actions and events to organizations: each check locks the organization's
  row (FOR KEY SHARE), so every concurrent proposal of one organization queued its lockers on the
  same row. The organization id comes from the authenticated API key (it exists), no organization is
  deleted today, and an action or event, like an audit entry (0017), is a record that should outlive
  one anyway. The same goes for approvals' key to organizations.
- three indexes that only some actions belong in, now partial:
  - the expiry sweep's (status, expires_at) holds pending actions only (its query asks for
    status = 'pending_approval'; approved and rejected actions never expire);
  - the per-agent list's (organization_id, agent_id, created_at, id) holds actions an agent
    proposed only (its queries ask for one agent_id, which implies NOT NULL);
  - the idempotency key's unique (organization_id, idempotency_key) holds keyed actions only
    (NULL keys never conflicted: uniqueness is unchanged).

SQLite (embedded, one writer) keeps its schema."""

from tortoise import migrations

from models.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [('models', '0017_lighter_audit_writes')]

    initial = False

    operations = [
        PostgresOnlySQL(
            [
                "ALTER TABLE actions DROP CONSTRAINT IF EXISTS actions_organization_id_fkey",
                "ALTER TABLE events DROP CONSTRAINT IF EXISTS events_organization_id_fkey",
                "ALTER TABLE approvals DROP CONSTRAINT IF EXISTS approvals_organization_id_fkey",
                "DROP INDEX IF EXISTS idx_actions_status_29b62d",
                "CREATE INDEX actions_pending_expiry ON actions (expires_at) WHERE status = 'pending_approval'",
                "DROP INDEX IF EXISTS idx_actions_organiz_8e5b28",
                "CREATE INDEX actions_by_agent ON actions (organization_id, agent_id, created_at, id)"
                " WHERE agent_id IS NOT NULL",
                "ALTER TABLE actions DROP CONSTRAINT IF EXISTS uid_actions_organiz_919366",
                "CREATE UNIQUE INDEX actions_idempotency_key ON actions (organization_id, idempotency_key)"
                " WHERE idempotency_key IS NOT NULL",
            ],
            reverse_sql=[
                "DROP INDEX actions_idempotency_key",
                "ALTER TABLE actions ADD CONSTRAINT uid_actions_organiz_919366 UNIQUE (organization_id, idempotency_key)",
                "DROP INDEX actions_by_agent",
                "CREATE INDEX idx_actions_organiz_8e5b28 ON actions (organization_id, agent_id, created_at, id)",
                "DROP INDEX actions_pending_expiry",
                "CREATE INDEX idx_actions_status_29b62d ON actions (status, expires_at)",
                "ALTER TABLE approvals ADD CONSTRAINT approvals_organization_id_fkey FOREIGN KEY (organization_id)"
                " REFERENCES organizations (id) ON DELETE CASCADE",
                "ALTER TABLE events ADD CONSTRAINT events_organization_id_fkey FOREIGN KEY (organization_id)"
                " REFERENCES organizations (id) ON DELETE CASCADE",
                "ALTER TABLE actions ADD CONSTRAINT actions_organization_id_fkey FOREIGN KEY (organization_id)"
                " REFERENCES organizations (id) ON DELETE CASCADE",
            ],
        ),
    ]
