"""The relay reads a queue of unrelayed seqs (events_unrelayed) instead of marking events: see
models.events.UnrelayedEvent. Events not yet relayed when this runs are queued, so none is lost."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0006_pending_deliveries')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UnrelayedEvent',
            fields=[
                ('seq', fields.BigIntField(primary_key=True, generated=False, unique=True, db_index=True)),
            ],
            options={'table': 'events_unrelayed', 'app': 'models', 'pk_attr': 'seq',
                     'table_description': "The relay's queue: the seq of each event not yet relayed, "
                                          "written in the event's transaction"},
            bases=['Model'],
        ),
        ops.RunSQL(
            "INSERT INTO events_unrelayed (seq) SELECT seq FROM events WHERE relayed_at IS NULL",
            reverse_sql="UPDATE events SET relayed_at = NULL WHERE seq IN (SELECT seq FROM events_unrelayed)",
        ),
        ops.RemoveField(model_name='Event', name='relayed_at'),
    ]
