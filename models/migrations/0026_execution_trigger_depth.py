"""`executions.trigger_depth`: how many executions precede this one in its chain of triggers (0: started
by a caller, or by an event no execution caused). The relay's sink refuses to start one deeper than
sink.MAX_TRIGGER_DEPTH: before it, two workflows whose runs' events triggered each other looped
without end, each round a new execution.

Added and dropped in place on both databases, as 0025 does (SQLite's AddField reverse would rebuild
the table from the model state)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.migration_ops import DeclareField


class Migration(migrations.Migration):
    dependencies = [('models', '0025_execution_idempotency_root')]

    initial = False

    operations = [
        ops.RunSQL(
            "ALTER TABLE executions ADD COLUMN trigger_depth INT NOT NULL DEFAULT 0",
            reverse_sql="ALTER TABLE executions DROP COLUMN trigger_depth",
        ),
        DeclareField(
            model_name='Execution',
            name='trigger_depth',
            field=fields.IntField(default=0),
        ),
    ]
