"""Policy versions (issue 18): every create or update of a policy keeps its state as a version, and an
action points at the exact set of active versions that decided it. Each existing policy's current state
becomes its one version, numbered by its current `version` (1 unless it was updated before versions
were kept). Chained after the audit trail's 0014."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PolicySet',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ('organization_id', fields.CharField(max_length=32)),
                ('versions', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'policy_sets', 'app': 'models', 'pk_attr': 'id', 'table_description': "The exact active policy versions one compile decided with: [[policy id, number], ...]"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PolicyVersion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.CharField(max_length=32)),
                ('policy', fields.ForeignKeyField('models.Policy', source_field='policy_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('mode', fields.CharField(max_length=16)),
                ('status', fields.CharField(max_length=16)),
                ('rules', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('notify', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(null=True, max_length=32)),
            ],
            options={'table': 'policy_versions', 'app': 'models', 'unique_together': (('policy_id', 'number'),), 'pk_attr': 'id', 'table_description': 'One state of a policy, kept when it is created or changed, never updated'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Action',
            name='policy_set_id',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.RunSQL(
            "INSERT INTO policy_versions (organization_id, policy_id, number, name, description, mode, status, "
            "rules, notify, created_at, created_by) SELECT organization_id, id, version, name, description, mode, "
            "status, rules, notify, updated_at, NULL FROM policies",
            reverse_sql="DELETE FROM policy_versions",
        ),
    ]
