"""A gateway call's claim time: when it went `calling`, so that a call whose process died before it
recorded an answer can be told from one still in flight (resolvers/mcp/calls.py `settle_stranded`);
and the server's URL when it was proposed, so that a call approved later is not made on another
upstream the server was pointed at meanwhile."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0022_attempts_without_foreign_key')]

    initial = False

    operations = [
        ops.AddField(
            model_name='McpCall',
            name='url',
            field=fields.CharField(null=True, max_length=2048),
        ),
        ops.AddField(
            model_name='McpCall',
            name='claimed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
