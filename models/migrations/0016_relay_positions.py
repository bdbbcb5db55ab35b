"""The relay's log of publish positions (models.events.RelayedEvent). Events relayed before this
migration keep their seq as their position, so a `since` a client already holds stays valid."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0015_policy_versions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RelayedEvent',
            fields=[
                ('position', fields.BigIntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ('organization_id', fields.CharField(max_length=32)),
                ('seq', fields.BigIntField()),
                ('relayed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'events_relayed', 'app': 'models', 'pk_attr': 'position',
                     'indexes': [Index(fields=['organization_id', 'position'])],
                     'table_description': "The relay's log: the order in which each event was published"},
            bases=['Model'],
        ),
        ops.RunSQL(
            "INSERT INTO events_relayed (position, organization_id, seq, relayed_at) "
            "SELECT seq, organization_id, seq, created_at FROM events "
            "WHERE seq NOT IN (SELECT seq FROM events_unrelayed)",
            reverse_sql="DELETE FROM events_relayed",
        ),
    ]
