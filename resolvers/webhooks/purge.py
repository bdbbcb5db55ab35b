"""Deleting deliveries together with their attempts.

PostgreSQL keeps no foreign keys on the delivery log (migrations 0019 and 0022: each key cost the
relay's insert or the dispatcher's record a locking lookup per row), so their cascades are done
here, in the caller's transaction. SQLite keeps its keys, and its cascade deletes the attempts.
"""

from __future__ import annotations

from tortoise import connections

from models.db import pg_execute, pg_fetch
from models.webhooks import WebhookDelivery

_DELETE_OF_WEBHOOK = "DELETE FROM webhook_deliveries WHERE webhook_id = $1 RETURNING id"
_DELETE_ONE = "DELETE FROM webhook_deliveries WHERE id = $1 RETURNING id"
_DELETE_ATTEMPTS = "DELETE FROM webhook_delivery_attempts WHERE delivery_id = ANY($1::varchar[])"


async def delete_deliveries(*, webhook_id: str | None = None, delivery_id: str | None = None) -> None:
    """Delete a webhook's deliveries (or one delivery), then their attempts.

    Deliveries first, attempts in a later statement: a dispatcher's record that commits meanwhile
    either logged its attempt before that statement (which sees it) or finds its delivery gone and
    logs nothing (the record's update joins the delivery row)."""
    if (webhook_id is None) == (delivery_id is None):
        raise ValueError("pass webhook_id or delivery_id")
    if connections.get("default").capabilities.dialect != "postgres":
        query = WebhookDelivery.filter(webhook_id=webhook_id) if webhook_id else WebhookDelivery.filter(id=delivery_id)
        await query.delete()
        return
    statement, key = (_DELETE_OF_WEBHOOK, webhook_id) if webhook_id else (_DELETE_ONE, delivery_id)
    deleted = [row["id"] for row in await pg_fetch(statement, key)]
    if deleted:
        await pg_execute(_DELETE_ATTEMPTS, deleted)
