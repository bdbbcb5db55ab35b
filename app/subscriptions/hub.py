"""The subscriptions hub: committed events -> groups of subscribers, rendered once per group.

One bus subscription per process (EVENTS_CHANNEL, where the relay publishes every committed
event) feeds every WebSocket client of the process. Events are routed in memory by organization,
then to the groups whose document matches; a group is every subscriber with the same document,
variables and organization, so an event is executed and serialised once per group and the same
text goes to each subscriber with its own operation id spliced in. Delivery never awaits a client:
frames go to each connection's bounded queue (see protocol.Connection.push for what a full queue
does), so a stalled client cannot delay the others.

Positions (the wire `seq`) are numbered by the relay without gaps, so a process knows when it
missed part of the bus: the relay's publish dropped while Redis was away, or this process's own
subscription was down while a batch went by (Redis pub/sub keeps nothing). The hub then reads the
missing positions back from the relay's log for the organizations it serves and routes them first,
holding what arrives meanwhile; the same check runs when the bus reconnects, for a gap no later
batch reveals. A subscriber never sees a hole it cannot know about.

A revoked key or a disabled agent closes its connections at once through the bus (REVOKED_CHANNEL,
DISABLED_CHANNEL). That word can be lost the same way (Redis away when it was published, or this
process's subscription down), and the key's sockets would then stay open for good, receiving every
later event: so every `recheck_seconds` the hub also asks the database about the keys and agents of
its open connections (one query each, only while connections are open).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

import orjson

from app.core.bus import Bus, Subscription
from app.subscriptions.documents import Documents, Prepared
from resolvers.agents.killswitch import DISABLED_CHANNEL, disabled_among
from resolvers.events.feeds import Envelope, Matcher, relayed_between
from resolvers.events.outbox import EVENTS_CHANNEL
from resolvers.keys.api_keys import REVOKED_CHANNEL, revoked_among

_log = logging.getLogger("gatehouse.subscriptions")


class Outlet(Protocol):
    """What the hub needs from a client connection."""

    key_id: str | None
    agent_id: str | None

    def push(self, frame: str) -> None: ...

    def close_soon(self, code: int, reason: str) -> None: ...


class Group:
    """Subscribers of one organization sharing one document: rendered once per event."""

    __slots__ = ("matcher", "payload", "prepared", "subscribers")

    def __init__(self, prepared: Prepared, matcher: Matcher, payload: Callable[[Envelope], object]) -> None:
        self.prepared, self.matcher, self.payload = prepared, matcher, payload
        self.subscribers: set[Subscriber] = set()


class Subscriber:
    """One operation of one connection. While it replays, live frames wait in `held`.

    Seqs reach a process in increasing order (resolvers/events/relay.py); `last` drops what a
    subscriber already has: an event it replayed from the table and then hears live."""

    __slots__ = ("group", "held", "last", "limit", "organization_id", "outlet", "prefix")

    def __init__(self, outlet: Outlet, prefix: str, group: Group, organization_id: str, limit: int) -> None:
        self.outlet, self.prefix, self.group, self.organization_id = outlet, prefix, group, organization_id
        self.held: list[tuple[int, str]] | None = None
        self.last = 0
        self.limit = limit

    def frame(self, payload: str) -> str:
        return self.prefix + payload + "}"

    def deliver(self, seq: int, payload: str) -> None:
        if seq <= self.last:
            return
        if self.held is None:
            self.last = seq
            self.outlet.push(self.frame(payload))
        elif len(self.held) < self.limit:
            self.held.append((seq, payload))
        else:
            self.outlet.close_soon(1013, "send queue full while replaying: resubscribe with since")

    def release(self, replayed_through: int) -> None:
        """End the replay, which sent every seq up to `replayed_through`: send the live events
        held meanwhile that come after it, then go live."""
        held, self.held = self.held or [], None
        self.last = max(self.last, replayed_through)
        for seq, payload in held:
            self.deliver(seq, payload)


class Hub:
    """Routes events by organization and document; closes the connections of revoked keys and
disabled agents."""

    def __init__(self, documents: Documents, send_queue_frames: int, recheck_seconds: float) -> None:
        self.documents = documents
        self._limit = send_queue_frames
        self._recheck_seconds = recheck_seconds
        self._rechecking: asyncio.Task[None] | None = None
        self._groups: dict[str, dict[str, Group]] = defaultdict(dict)
        self._by_key: dict[str, set[Outlet]] = defaultdict(set)
        self._by_agent: dict[str, set[Outlet]] = defaultdict(set)
        self._bus_subscriptions: list[Subscription] = []
        self.rendered = 0  # executions, for tests and metrics: one per event per group
        self.filled = 0  # events read back from the log because the bus missed them (tests, metrics)
        self._heard: int | None = None  # the last position heard on the bus
        self._held: list[bytes] | None = None  # batches heard while a gap is read back, in order
        self._filling: asyncio.Task[None] | None = None

    async def start(self, bus: Bus) -> None:
        bus.on_reconnect(self._on_reconnect)
        self._bus_subscriptions = [
            await bus.subscribe(EVENTS_CHANNEL, self._on_event),
            await bus.subscribe(REVOKED_CHANNEL, self._on_revoked),
            await bus.subscribe(DISABLED_CHANNEL, self._on_agent_disabled),
        ]
        self._rechecking = asyncio.get_running_loop().create_task(self._recheck_forever())

    async def stop(self) -> None:
        for subscription in self._bus_subscriptions:
            await subscription.close()
        for task in (self._filling, self._rechecking):
            if task is not None:
                task.cancel()

    def attach(self, outlet: Outlet) -> None:
        if outlet.key_id:
            self._by_key[outlet.key_id].add(outlet)
        if outlet.agent_id:
            self._by_agent[outlet.agent_id].add(outlet)

    def connections_of(self, key_id: str) -> int:
        """How many acknowledged connections `key_id` holds on this server."""
        return len(self._by_key.get(key_id, ()))

    def detach(self, outlet: Outlet) -> None:
        for index, name in ((self._by_key, outlet.key_id), (self._by_agent, outlet.agent_id)):
            if name and name in index:
                index[name].discard(outlet)
                if not index[name]:
                    del index[name]

    def join(self, outlet: Outlet, frame_prefix: str, organization_id: str, prepared: Prepared,
             matcher: Matcher, payload: Callable[[Envelope], object]) -> Subscriber:
        groups = self._groups[organization_id]
        group = groups.get(prepared.key)
        if group is None:
            group = groups[prepared.key] = Group(prepared, matcher, payload)
        subscriber = Subscriber(outlet, frame_prefix, group, organization_id, self._limit)
        group.subscribers.add(subscriber)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        group = subscriber.group
        group.subscribers.discard(subscriber)
        groups = self._groups.get(subscriber.organization_id)
        if not group.subscribers and groups is not None:
            groups.pop(group.prepared.key, None)
            if not groups:
                del self._groups[subscriber.organization_id]

    def render(self, group: Group, event: Envelope) -> str:
        self.rendered += 1
        return self.documents.render(group.prepared, group.payload(event))

    def _on_event(self, _channel: str, message: bytes) -> None:
        """A relay batch: a JSON array of envelopes (a single envelope object is accepted too)."""
        if self._held is not None:  # a gap is being read back: this batch comes after it
            self._held.append(message)
            return
        try:
            batch = orjson.loads(message)
        except orjson.JSONDecodeError:
            _log.warning("malformed event on the bus dropped")
            return
        events = batch if isinstance(batch, list) else [batch]
        first = _position(events[0]) if events else None
        if first is not None and self._heard is not None and first > self._heard + 1 and self._groups:
            self._fill(self._heard, first, message)
            return
        for event in events:
            try:
                groups = self._groups.get(event["organizationId"])
            except (KeyError, TypeError):
                _log.warning("malformed event on the bus dropped")
                continue
            if groups:
                self._route(groups, event)
        last = _position(events[-1]) if events else None
        if last is not None:
            self._heard = last if self._heard is None else max(self._heard, last)

    def _on_reconnect(self) -> None:
        """The bus is back: what was published while it was away is read back, if anyone listens."""
        if self._heard is not None and self._held is None and self._groups:
            self._fill(self._heard, None, None)

    def _fill(self, after: int, before: int | None, then: bytes | None) -> None:
        """Hold the bus, read back positions (`after`, `before`) for the organizations served, route
        them, then the batches held meanwhile (`then` first)."""
        self._held = [then] if then is not None else []
        self._filling = asyncio.get_running_loop().create_task(self._read_back(after, before))

    async def _read_back(self, after: int, before: int | None) -> None:
        try:
            missed = await relayed_between(after, before, tuple(self._groups))
        except Exception as exc:  # the database away too: the clients' own `since` is what is left
            _log.warning("events missed on the bus could not be read back: %s", exc)
            missed = []
        if missed:
            _log.warning("read back %d events the bus missed after position %d", len(missed), after)
        for event in missed:
            groups = self._groups.get(event["organizationId"])
            if groups:
                self._route(groups, event)
        self.filled += len(missed)
        last_read = missed[-1]["seq"] if missed else after
        # up to the batch that showed the gap (what MAX_GAP left out is the clients' `since`)
        self._heard = max(self._heard or 0, before - 1 if before is not None else last_read)
        held, self._held, self._filling = self._held or [], None, None
        for message in held:
            self._on_event(EVENTS_CHANNEL, message)

    def _route(self, groups: dict[str, Group], event: Envelope) -> None:
        for group in tuple(groups.values()):
            if group.matcher(event):
                payload = self.render(group, event)
                for subscriber in tuple(group.subscribers):
                    subscriber.deliver(event["seq"], payload)

    def _on_revoked(self, _channel: str, message: bytes) -> None:
        _close_all(self._by_key, message.decode(), "API key revoked")

    def _on_agent_disabled(self, _channel: str, message: bytes) -> None:
        """The kill switch: every connection of a key bound to the agent closes at once."""
        _close_all(self._by_agent, message.decode(), "agent disabled")

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(self._recheck_seconds)
            try:
                await self._recheck()
            except Exception as exc:  # the database away: the next round tries again
                _log.warning("open connections' keys could not be checked: %s", exc)

    async def _recheck(self) -> None:
        """Close the connections whose key is revoked or whose agent is disabled, as the database
        says now (the bus's message about it may have been lost)."""
        if self._by_key:
            for key_id in await revoked_among(tuple(self._by_key)):
                _close_all(self._by_key, key_id, "API key revoked")
        if self._by_agent:
            for agent_id in await disabled_among(tuple(self._by_agent)):
                _close_all(self._by_agent, agent_id, "agent disabled")


def _close_all(index: dict[str, set[Outlet]], name: str, reason: str) -> None:
    """Close every connection `index` holds under `name` (a key id, an agent id) with 4403."""
    for outlet in tuple(index.get(name, ())):
        outlet.close_soon(4403, reason)


def _position(event: object) -> int | None:
    """An envelope's position (its wire `seq`), or None for one without."""
    seq = event.get("seq") if isinstance(event, dict) else None
    return seq if isinstance(seq, int) else None
