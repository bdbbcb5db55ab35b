"""Deleting deliveries together with their attempts.

PostgreSQL keeps no foreign keys on the delivery log (migrations 0019 and 0022: each key cost the
relay's insert or the dispatcher's record a locking lookup per row), so their cascades are done
here, in the caller's transaction. SQLite keeps its keys, and its cascade deletes the attempts.
"""

from __future__ import annotations

from app.core.after_commit import atomic
from models.db import is_postgres, pg_execute
from models.webhooks import WebhookDelivery

# Three statements, all in the database (a webhook's log may hold millions of rows):
# lock the deliveries, so a dispatcher's record of one of them waits and then finds it gone (its
# update joins the delivery row) instead of logging an attempt after the attempts are deleted;
# delete the attempts, every committed one visible to this later statement; delete the deliveries.
_LOCK = "SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries d WHERE {where} FOR UPDATE) locked"
_DELETE_ATTEMPTS = ("DELETE FROM webhook_delivery_attempts a USING webhook_deliveries d"
                    " WHERE d.id = a.delivery_id AND {where}")
_DELETE = "DELETE FROM webhook_deliveries d WHERE {where}"
_OF_WEBHOOK, _ONE = "d.webhook_id = $1", "d.id = $1"


async def delete_deliveries(*, webhook_id: str | None = None, delivery_id: str | None = None) -> None:
    """Delete a webhook's deliveries (or one delivery) and their attempts, in one transaction (the
    caller's, when one is open)."""
    if (webhook_id is None) == (delivery_id is None):
        raise ValueError("pass webhook_id or delivery_id")
    if not is_postgres():
        query = WebhookDelivery.filter(webhook_id=webhook_id) if webhook_id else WebhookDelivery.filter(id=delivery_id)
        await query.delete()
        return
    where, key = (_OF_WEBHOOK, webhook_id) if webhook_id else (_ONE, delivery_id)
    async with atomic():
        for statement in (_LOCK, _DELETE_ATTEMPTS, _DELETE):
            await pg_execute(statement.format(where=where), key)
