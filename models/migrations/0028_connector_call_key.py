"""`connector_calls.key_id`: the API key that ran a call directly (`POST /connectors/{id}/actions/
{action}`, `runConnectorAction`). Before it, a call log row said what ran and how it ended but not
who ran it; the `connector.action_run` audit entry says so too, and outlives the row (the call log
goes with its connector). Workflow steps' and policy notifications' calls keep NULL, as do calls
logged before it.

Added and dropped in place on both databases, as 0025 and 0026 do (SQLite's AddField reverse would
rebuild the table from the model state)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.migration_ops import DeclareField


class Migration(migrations.Migration):
    dependencies = [('models', '0027_mcp_call_input_schema')]

    initial = False

    operations = [
        ops.RunSQL(
            "ALTER TABLE connector_calls ADD COLUMN key_id VARCHAR(32)",
            reverse_sql="ALTER TABLE connector_calls DROP COLUMN key_id",
        ),
        DeclareField(
            model_name='ConnectorCall',
            name='key_id',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
