"""What a delivery carries on the wire: the body of document 002 (plus 001's action fields) and
the signed headers of DESIGN.md "Events"."""

from __future__ import annotations

import time
from typing import Any

import orjson

from app.core.crypto import sign_hex, standard_webhook_signatures
from models.events import Event
from resolvers.events.outbox import Committed, timestamp_of

ACTION_FIELDS = ("actionId", "type", "actor", "params", "approvalUrl")


def body_of(event_id: str, event_type: str, timestamp: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """`{id, event, timestamp, data}`; action events also carry document 001's top-level fields."""
    body: dict[str, Any] = {"id": event_id, "event": event_type, "timestamp": timestamp, "data": data}
    if event_type.startswith("action."):
        for name in ACTION_FIELDS:
            if name in data:
                body[name] = data[name]
    return body


def body_of_event(event: Event | Committed) -> dict[str, Any]:
    return body_of(event.id, event.type, timestamp_of(event), event.data)


def encode(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


def signed_headers(
    raw: bytes, *, delivery_id: str, event_type: str, secrets: list[str], custom: dict[str, str]
) -> dict[str, str]:
    """Custom headers first, so none of them can replace a signature header."""
    stamp = int(time.time())
    return {
        **custom,
        "Content-Type": "application/json",
        "X-Webhook-Signature": sign_hex(secrets[0], raw),
        "X-Webhook-Event": event_type,
        "X-Webhook-Delivery": delivery_id,
        "webhook-id": delivery_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": standard_webhook_signatures(secrets, delivery_id, stamp, raw),
    }
