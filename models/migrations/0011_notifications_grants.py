"""Notifications (policy `notify`, the notifications table), single-use grants and proposal metadata on actions."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_agents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('action_id', fields.CharField(max_length=32)),
                ('event_id', fields.CharField(max_length=32)),
                ('event_type', fields.CharField(max_length=64)),
                ('policy_id', fields.CharField(max_length=32)),
                ('connector_id', fields.CharField(max_length=32)),
                ('connector_action', fields.CharField(max_length=64)),
                ('input', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('last_call_id', fields.CharField(null=True, max_length=32)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notifications', 'app': 'models', 'unique_together': (('event_id', 'connector_id'),), 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['organization_id', 'action_id'])], 'pk_attr': 'id', 'table_description': 'One notice of one action event to one connector, and where its delivery stands.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Action',
            name='grant_consumed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Action',
            name='grant_consumed_by',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Action',
            name='metadata',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Policy',
            name='notify',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
