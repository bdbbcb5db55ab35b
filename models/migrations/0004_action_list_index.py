from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_webhooks')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Action',
            index=Index(fields=['organization_id', 'created_at', 'id']),
        ),
    ]
