from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_connectors')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Workflow',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='workflows', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('is_public', fields.BooleanField(default=False)),
                ('definition', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('trigger', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('concurrency', fields.IntField(null=True)),
                ('version', fields.IntField(default=1)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'workflows', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkflowVersion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('models.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('definition', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'workflow_versions', 'app': 'models', 'unique_together': (('workflow_id', 'number'),), 'pk_attr': 'id', 'table_description': 'A definition as it was saved: what executions started on it run.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Execution',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='executions', on_delete=OnDelete.CASCADE)),
                ('workflow', fields.ForeignKeyField('models.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='executions', on_delete=OnDelete.CASCADE)),
                ('version', fields.ForeignKeyField('models.WorkflowVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='executions', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('input', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('output', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('error', fields.TextField(null=True, unique=False)),
                ('trigger', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('trigger_key', fields.CharField(null=True, unique=True, max_length=100)),
                ('retry_of', fields.CharField(null=True, max_length=32)),
                ('current_step', fields.IntField(default=0)),
                ('next_run_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease', fields.IntField(default=0)),
                ('waiting_action_id', fields.CharField(null=True, max_length=32)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'executions', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at']), Index(fields=['workflow_id', 'created_at']), Index(fields=['status', 'next_run_at']), Index(fields=['waiting_action_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ExecutionStep',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('execution', fields.ForeignKeyField('models.Execution', source_field='execution_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('name', fields.CharField(max_length=64)),
                ('type', fields.CharField(max_length=32)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('input', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('output', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('error', fields.TextField(null=True, unique=False)),
                ('reused', fields.BooleanField(default=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'execution_steps', 'app': 'models', 'unique_together': (('execution_id', 'position'),), 'pk_attr': 'id', 'table_description': 'One step of one execution: its resolved input (secrets redacted), output, attempts, error.'},
            bases=['Model'],
        ),
    ]
