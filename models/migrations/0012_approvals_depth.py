from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_notifications_grants')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReviewerGroup',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='reviewer_groups', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('members', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'reviewer_groups', 'app': 'models', 'unique_together': (('organization_id', 'name'),), 'pk_attr': 'id', 'table_description': 'A team of approving keys. Rules refer to it by id (a name given in a rule is stored as the id).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Action',
            name='escalated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Action',
            name='original_params',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Action',
            name='proposed_by',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Action',
            name='review',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Action',
            name='votes',
            field=fields.JSONField(null=True, default=list, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
