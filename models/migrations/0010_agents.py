from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_workflows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Agent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='agents', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('slug', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('status', fields.CharField(default='active', max_length=16)),
                ('config', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('proposals_per_minute', fields.IntField(null=True)),
                ('total_actions', fields.IntField(default=0)),
                ('approved_actions', fields.IntField(default=0)),
                ('blocked_actions', fields.IntField(default=0)),
                ('pending_actions', fields.IntField(default=0)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_action_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'agents', 'app': 'models', 'unique_together': (('organization_id', 'slug'),), 'indexes': [Index(fields=['organization_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'One agent of an organization, kept when disabled (the kill switch), never deleted.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Action',
            name='actor_verified',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name='Action',
            index=Index(fields=['organization_id', 'agent_id', 'created_at', 'id']),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='agent_id',
            field=fields.CharField(null=True, max_length=32),
        ),
    ]
