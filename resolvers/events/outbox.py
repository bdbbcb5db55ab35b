"""The outbox: `emit` writes an event in the caller's transaction and wakes the relay on commit.

Nothing is published directly from a request: the relay (resolvers/events/relay.py) reads committed
events in order, so an event is never announced for a change that rolled back, and never lost when
a process dies between commit and publish.
"""

from __future__ import annotations

from typing import Any

from app.core.after_commit import on_commit
from app.core.clock import isoformat_z
from app.core.ids import new_id
from models.events import Event
from resolvers.context import Services

OUTBOX_WAKE_CHANNEL = "gatehouse:outbox:wake"
EVENTS_CHANNEL = "gatehouse:events"
CATALOGUE = (
    "action.pending_approval",
    "action.approved",
    "action.rejected",
    "action.expired",
    "workflow.started",
    "workflow.completed",
    "workflow.failed",
    "workflow.cancelled",
    "webhook.test",
    "webhook.disabled",
)


async def emit(services: Services, organization_id: str, event_type: str, data: dict[str, Any]) -> Event:
    """Record an event inside the current `atomic()` block; the relay is woken after commit."""
    if event_type not in CATALOGUE:
        raise ValueError(f"{event_type} is not in the event catalogue")
    event = await Event.create(id=new_id("evt"), organization_id=organization_id, type=event_type, data=data)

    async def wake() -> None:
        await services.bus.publish(OUTBOX_WAKE_CHANNEL, b"1")

    on_commit(wake)
    return event


def envelope(event: Event) -> dict[str, Any]:
    """The wire form of an event: `{id, event, timestamp, data}` plus `seq` for replay."""
    return {
        "id": event.id,
        "event": event.type,
        "timestamp": isoformat_z(event.created_at),
        "seq": event.seq,
        "organizationId": event.organization_id,
        "data": event.data,
    }
