"""PostgreSQL: a webhook delivery's insert checks no foreign keys.

The relay writes one delivery per (event, webhook), hundreds per statement during a burst, and each
row paid for two foreign-key checks, each a lookup that also locks the referenced row (FOR KEY
SHARE): its organization's and its webhook's, the same two rows for a whole batch. Measured on the
bench database (2,000-row inserts, three rounds): 16.5-17.2 us a row with both keys, 13.1-13.4
without the organization's, 9.4-9.6 without either.

- The organization's key goes for 0018's reasons: the id comes from a webhook of that organization,
  no organization is deleted, and a delivery is a record.
- The webhook's key carried `ON DELETE CASCADE`; deleting a webhook now deletes its deliveries
  itself (resolvers.webhooks.webhooks.delete, in the same transaction; their attempts still go with
  them by their own key). A delivery the relay writes for a webhook being deleted at that moment is
  left without its webhook, and the dispatcher deletes it when it leases it, as it already did for a
  webhook deleted between the lease and the send (dispatch.settle_unsendable).

SQLite (embedded, one writer) keeps its schema."""

from tortoise import migrations

from models.migration_ops import PostgresOnlySQL


class Migration(migrations.Migration):
    dependencies = [('models', '0018_lighter_proposal_writes')]

    initial = False

    operations = [
        PostgresOnlySQL(
            [
                "ALTER TABLE webhook_deliveries DROP CONSTRAINT IF EXISTS webhook_deliveries_organization_id_fkey",
                "ALTER TABLE webhook_deliveries DROP CONSTRAINT IF EXISTS webhook_deliveries_webhook_id_fkey",
            ],
            reverse_sql=[
                "DELETE FROM webhook_deliveries d WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = d.webhook_id)",
                "ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_webhook_id_fkey FOREIGN KEY (webhook_id)"
                " REFERENCES webhooks (id) ON DELETE CASCADE",
                "ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_organization_id_fkey"
                " FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE",
            ],
        ),
    ]
