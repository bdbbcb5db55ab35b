"""The audit trail (models/audit.py): entries, each organization's chain head and anchor, and the
sealer's queue as a partial index of the entries not yet sealed."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_mcp_servers')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditChain',
            fields=[
                ('organization', fields.OneToOneField('models.Organization', source_field='organization_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='audit_chain', on_delete=OnDelete.CASCADE)),
                ('position', fields.BigIntField(default=0)),
                ('hash', fields.CharField(null=True, max_length=64)),
                ('anchor_position', fields.BigIntField(default=0)),
                ('anchor_hash', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_chains', 'app': 'models', 'pk_attr': 'organization_id', 'table_description': "An organization's chain: its sealed head and, after trimming, its anchor."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('seq', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('id', fields.CharField(unique=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharField(max_length=64)),
                ('resource_id', fields.CharField(null=True, max_length=64)),
                ('actor', fields.CharField(max_length=64)),
                ('key_id', fields.CharField(null=True, max_length=32)),
                ('agent_id', fields.CharField(null=True, max_length=32)),
                ('changes', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('client_address', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('position', fields.BigIntField(null=True)),
                ('hash', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_entries', 'app': 'models', 'unique_together': (('organization_id', 'position'),), 'indexes': [Index(fields=['organization_id', 'created_at', 'id'])], 'pk_attr': 'seq', 'table_description': 'Who changed what, when, from where: its chain position and hash are set once, by the sealer.'},
            bases=['Model'],
        ),
        ops.RunSQL(
            "CREATE INDEX audit_entries_unsealed ON audit_entries (seq) WHERE position IS NULL",
            reverse_sql="DROP INDEX audit_entries_unsealed",
        ),
    ]
