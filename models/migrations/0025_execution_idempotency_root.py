"""A retried execution calls out with the idempotency keys of the run it retries: `executions.
idempotency_root` names the execution whose id those keys carry (NULL, most executions: its own).
Before it, a retry sent `{its own id}:{step}`, so a call that a provider had taken but whose answer
was lost (a Stripe charge that timed out) was made a second time under a new key.

Retries made before it keep NULL: their keys stay the ones they were made with. The column is
added and dropped in place on both databases: SQLite's AddField reverse rebuilds the table from the
model state, which would turn 0024's partial index into a plain UNIQUE and break 0024's reverse."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.migration_ops import DeclareField


class Migration(migrations.Migration):
    dependencies = [('models', '0024_retried_once')]

    initial = False

    operations = [
        ops.RunSQL(
            "ALTER TABLE executions ADD COLUMN idempotency_root VARCHAR(32)",
            reverse_sql="ALTER TABLE executions DROP COLUMN idempotency_root",
        ),
        DeclareField(
            model_name='Execution',
            name='idempotency_root',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
