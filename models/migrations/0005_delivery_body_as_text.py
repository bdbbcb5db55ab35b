from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class StoreBodyAsText(ops.AlterField):
    """Tortoise cannot alter a column's type by itself: PostgreSQL gets the ALTER written out, and
    SQLite needs none, its JSON column already holds the text as given."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT == "postgres":
            await state_editor._run_sql(
                "ALTER TABLE webhook_deliveries ALTER COLUMN payload TYPE TEXT USING payload::text"
            )

    async def database_backward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.DIALECT == "postgres":
            await state_editor._run_sql(
                "ALTER TABLE webhook_deliveries ALTER COLUMN payload TYPE JSONB USING payload::jsonb"
            )


class Migration(migrations.Migration):
    dependencies = [('models', '0004_action_list_index')]

    initial = False

    operations = [
        StoreBodyAsText(
            model_name='WebhookDelivery',
            name='payload',
            field=fields.TextField(unique=False),
        ),
    ]
