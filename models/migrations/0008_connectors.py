from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_relay_queue')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Credential',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='credentials', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('type', fields.CharField(max_length=16)),
                ('provider', fields.CharField(max_length=32)),
                ('sealed', fields.TextField(unique=False)),
                ('key_id', fields.CharField(max_length=32)),
                ('fingerprint', fields.CharField(max_length=16)),
                ('field_names', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('metadata', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'credentials', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at']), Index(fields=['key_id'])], 'pk_attr': 'id', 'table_description': "An organization's secret for one provider, sealed at rest."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Connector',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='connectors', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('type', fields.CharField(max_length=32)),
                ('credential', fields.ForeignKeyField('models.Credential', source_field='credential_id', null=True, db_constraint=True, to_field='id', related_name='connectors', on_delete=OnDelete.NO_ACTION)),
                ('config', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'connectors', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A configured use of one connector type with one credential (e.g. "Production Slack").'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ConnectorCall',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='connector_calls', on_delete=OnDelete.CASCADE)),
                ('connector', fields.ForeignKeyField('models.Connector', source_field='connector_id', db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=64)),
                ('status', fields.CharField(max_length=16)),
                ('duration_ms', fields.IntField()),
                ('retryable', fields.BooleanField(default=False)),
                ('provider_status', fields.IntField(null=True)),
                ('error', fields.CharField(null=True, max_length=1000)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'connector_calls', 'app': 'models', 'indexes': [Index(fields=['connector_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One run of one action: when, how long, how it ended, and the provider's error if any."},
            bases=['Model'],
        ),
    ]
