from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Action',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='actions', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharField(max_length=200)),
                ('actor_kind', fields.CharField(max_length=100)),
                ('actor_name', fields.CharField(null=True, max_length=200)),
                ('actor_provider', fields.CharField(null=True, max_length=200)),
                ('target', fields.TextField(null=True, unique=False)),
                ('params', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharField(max_length=32)),
                ('policy_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('checks', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('observed', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('approval_mode', fields.CharField(null=True, max_length=16)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(null=True, max_length=200)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('client_ref', fields.CharField(null=True, max_length=200)),
                ('client_timestamp', fields.CharField(null=True, max_length=64)),
                ('agent_id', fields.CharField(null=True, max_length=200)),
                ('idempotency_key', fields.CharField(null=True, max_length=255)),
                ('request_hash', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'actions', 'app': 'models', 'unique_together': (('organization_id', 'idempotency_key'),), 'indexes': [Index(fields=['organization_id', 'status', 'created_at']), Index(fields=['status', 'expires_at'])], 'pk_attr': 'id', 'table_description': 'A proposed action, the decision on it and who made it (checks are the live state).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ActionHistory',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization_id', fields.CharField(max_length=32)),
                ('action', fields.ForeignKeyField('models.Action', source_field='action_id', db_constraint=True, to_field='id', related_name='history', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('status', fields.CharField(max_length=32)),
                ('by', fields.CharField(null=True, max_length=200)),
                ('detail', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'action_history', 'app': 'models', 'indexes': [Index(fields=['action_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'Append-only audit trail of an action: proposed, evidence added, approved by X, expired.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Approval',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='approvals', on_delete=OnDelete.CASCADE)),
                ('action', fields.OneToOneField('models.Action', source_field='action_id', db_constraint=True, to_field='id', related_name='approval', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('decided_by', fields.CharField(null=True, max_length=32)),
                ('approver', fields.CharField(null=True, max_length=200)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'approvals', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'status', 'created_at'])], 'pk_attr': 'id', 'table_description': 'The human decision an action in pending_approval waits for (one per action).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvidenceCheck',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.CharField(max_length=32)),
                ('action', fields.ForeignKeyField('models.Action', source_field='action_id', db_constraint=True, to_field='id', related_name='evidence', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('passed', fields.BooleanField()),
                ('note', fields.TextField(null=True, unique=False)),
                ('meta', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('submitted_by', fields.CharField(null=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'action_evidence', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One submitted check result, as sent (with its free-form meta).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Policy',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='policies', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('mode', fields.CharField(default='enforce', max_length=16)),
                ('status', fields.CharField(default='active', max_length=16)),
                ('rules', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('version', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'policies', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'status'])], 'pk_attr': 'id', 'table_description': 'Rules an organization applies to proposed actions. Archived policies are kept, not evaluated.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QuotaUsage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.CharField(max_length=32)),
                ('month', fields.CharField(max_length=7)),
                ('used', fields.IntField(default=0)),
            ],
            options={'table': 'quota_usage', 'app': 'models', 'unique_together': (('organization_id', 'month'),), 'pk_attr': 'id', 'table_description': 'Actions proposed by one organization in one calendar month (UTC), counted atomically.'},
            bases=['Model'],
        ),
    ]
