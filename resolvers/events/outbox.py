"""The outbox: `emit` writes an event in the caller's transaction and wakes the relay on commit.

Nothing is published directly from a request: the relay (resolvers/events/relay.py) reads committed
events in order, so an event is never announced for a change that rolled back, and never lost when
a process dies between commit and publish.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.after_commit import on_commit
from app.core.clock import isoformat_z
from app.core.ids import new_id
from models.events import Event, UnrelayedEvent
from resolvers.context import Services

OUTBOX_WAKE_CHANNEL = "gatehouse:outbox:wake"
EVENTS_CHANNEL = "gatehouse:events"
WAKE_DELAY_SECONDS = 0.002  # what a relay wake may add to an event's latency, to be shared by more commits
_log = logging.getLogger("gatehouse.outbox")
# Per bus: the wake scheduled but not yet sent, and when it is due. Every commit made before it is
# sent is covered by it. The due time is kept here, not asked of the handle: for a callback due
# within half a millisecond uvloop hands back a plain Handle, which has no `when()` (a pause of the
# process between reading the clock and scheduling is enough for that).
_unsent_wakes: weakref.WeakKeyDictionary[Any, tuple[float, asyncio.Handle]] = weakref.WeakKeyDictionary()
_wakes_in_flight: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks
CATALOGUE = (
    "action.pending_approval",
    "action.approval_recorded",
    "action.evidence_added",
    "action.approvers_changed",
    "action.approved",
    "action.rejected",
    "action.expired",
    "action.grant_consumed",
    "action.escalated",
    "action.cancelled",
    "workflow.started",
    "workflow.step_completed",
    "workflow.completed",
    "workflow.failed",
    "workflow.cancelled",
    "webhook.test",
    "webhook.disabled",
    "credential.created",
    "credential.updated",
    "credential.deleted",
    "connector.created",
    "connector.updated",
    "connector.deleted",
    "connector.call_failed",
    "agent.registered",
    "agent.updated",
    "agent.disabled",
    "reviewer_group.created",
    "reviewer_group.updated",
    "reviewer_group.deleted",
    "mcp_server.created",
    "mcp_server.updated",
    "mcp_server.deleted",
    "mcp.call_completed",
    "mcp.call_failed",
)
# The events that decide an action: what an approval step or a gateway call waits for.
DECISION_EVENTS = frozenset({"action.approved", "action.rejected", "action.expired"})


async def emit(services: Services, organization_id: str, event_type: str, data: dict[str, Any]) -> Event:
    """Record an event inside the current `atomic()` block; the relay is woken after commit."""
    if event_type not in CATALOGUE:
        raise ValueError(f"{event_type} is not in the event catalogue")
    event = await Event.create(id=new_id("evt"), organization_id=organization_id, type=event_type, data=data)
    await UnrelayedEvent.create(seq=event.seq)

    async def wake() -> None:
        schedule_wake(services)

    on_commit(wake)
    return event


def schedule_wake(services: Services, within: float = WAKE_DELAY_SECONDS) -> None:
    """Wake the relay after a commit, coalesced: concurrent proposals committed before a wake is
    sent share it (under load most requests then publish nothing, where each used to await a
    Redis PUBLISH), and no request waits for the publish. The wake is taken off the table before
    it is sent, so a commit that finds none pending always gets a wake sent after it. A wake
    waits WAKE_DELAY_SECONDS first, so the commits of those milliseconds share it too (measured:
    waking per event loop turn was still 4% of a proposal's CPU at 1,900 proposals/s).

    `within` is how long this commit's events may wait: a caller that would rather not have the
    relay (and the audit sealer, woken with it) run beside its next few milliseconds asks for more
    (the workflow runner while a step's call is in flight), and a later commit asking for less
    brings the pending wake forward, so no event waits longer than its own commit asked."""
    bus = services.bus
    loop = asyncio.get_running_loop()
    due = loop.time() + within
    pending = _unsent_wakes.get(bus)
    if pending is not None:
        pending_due, handle = pending
        if pending_due <= due:
            return
        handle.cancel()
    _unsent_wakes[bus] = (due, loop.call_at(due, _send_wake, bus))


def _send_wake(bus: Any) -> None:
    _unsent_wakes.pop(bus, None)
    publish_wake(bus, OUTBOX_WAKE_CHANNEL)


def publish_wake(bus: Any, channel: str) -> None:
    """Publish a wake on `channel` without waiting for it. Whoever it wakes also polls, so a lost
    wake delays work and never loses it: a failure is logged, not raised."""
    task = asyncio.get_running_loop().create_task(_publish_wake(bus, channel))
    _wakes_in_flight.add(task)
    task.add_done_callback(_wakes_in_flight.discard)


def wake_after_commit(bus: Any, channel: str) -> None:
    """Registered inside a transaction: publish a wake on `channel` once it commits, without the
    committer waiting for it (a relay sink's wake awaited there was one more round trip a batch,
    in a loop busy with sends, while the relay held its turn)."""

    async def publish() -> None:
        publish_wake(bus, channel)

    on_commit(publish)


async def _publish_wake(bus: Any, channel: str) -> None:
    try:
        await bus.publish(channel, b"1")
    except Exception:
        _log.exception("wake on %s failed", channel)


@dataclass(slots=True)
class Committed:
    """A committed event as the relay hands it to sinks: its columns, without a model instance
    (building Tortoise instances for a relay batch was 5% of the worker's CPU in a webhook burst)."""

    seq: int
    id: str
    organization_id: str
    type: str
    data: dict[str, Any]
    created_at: datetime
    timestamp: str | None = field(init=False)  # its wire form, made once for the envelope and the webhook body
    position: int = 0  # its place in the relay's publish order (models.events.RelayedEvent): the wire `seq`

    def __post_init__(self) -> None:
        self.timestamp = isoformat_z(self.created_at)

    @classmethod
    def of(cls, event: Event, position: int = 0) -> Committed:
        return cls(event.seq, event.id, event.organization_id, event.type, event.data, event.created_at,
                   position=position)


def timestamp_of(event: Event | Committed) -> str | None:
    """The event's time in wire form (`Committed` carries it made)."""
    return event.timestamp if isinstance(event, Committed) else isoformat_z(event.created_at)


def envelope(event: Committed) -> dict[str, Any]:
    """The wire form of an event: `{id, event, timestamp, data}` plus `seq` for replay.

    The wire `seq` is the event's relay position, not its row's seq: positions follow the order
    in which events reach subscribers, so `since` = the last one seen resumes exactly."""
    return {
        "id": event.id,
        "event": event.type,
        "timestamp": event.timestamp,
        "seq": event.position,
        "organizationId": event.organization_id,
        "data": event.data,
    }
