"""`mcp_calls.input_schema`: the tool's input schema when a gateway call that waits for a human was
proposed, so that an approver's edit of its params is checked against the schema the call was
judged on (resolvers/mcp/arguments.py) instead of going upstream and being recorded failed. Calls
proposed before it keep NULL and their edits are not checked."""

from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0026_execution_trigger_depth')]

    initial = False

    operations = [
        ops.AddField(
            model_name='McpCall',
            name='input_schema',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
