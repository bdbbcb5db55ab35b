"""Leased deliveries wait in a dispatcher's queue with their webhook as it was when the lease was
taken (up to eight batches of `webhook_concurrency`; against a slow receiver, for seconds). A webhook
updated, disabled, rotated or deleted meanwhile must not be sent those deliveries as it was: to its
old URL, with its old headers or secret, or at all once deleted or disabled.

Each such change is announced after its commit on CHANGED_CHANNEL. The dispatcher notes it
(`Freshness.changed`), and a delivery whose lease predates the note reloads its webhook before it
is sent: one read per webhook and change, not per delivery, so the hot path pays a dict lookup. A
send already under way when the note arrives goes out as it was. With the bus down, notes are lost
and leases keep the webhook they were taken with, as before.
"""

from __future__ import annotations

from app.core.after_commit import on_commit
from resolvers.context import Services
from resolvers.webhooks.leases import Lease, Target, load_target

CHANGED_CHANNEL = "gatehouse:webhooks:changed"
NOTES_KEPT = 10_000  # changed webhooks remembered; past it every older lease counts as stale


def announce_change(services: Services, webhook_id: str) -> None:
    """Registered in the changing transaction: dispatchers hear of the change once it committed."""

    async def publish() -> None:
        await services.bus.publish(CHANGED_CHANNEL, webhook_id.encode())

    on_commit(publish)


class Freshness:
    """One dispatcher's notes of changed webhooks, by a counter of notes (`tick`), and the webhooks
    it reloaded since."""

    def __init__(self) -> None:
        self._tick = 0
        self._floor = 0  # leases taken before this tick are stale whatever their webhook
        self._changed: dict[str, int] = {}
        self._loaded: dict[str, tuple[int, Target | None]] = {}

    def tick(self) -> int:
        """Stamp a lease with this before its claim is sent: notes after it make the lease stale."""
        return self._tick

    def changed(self, webhook_id: str) -> None:
        self._tick += 1
        if len(self._changed) >= NOTES_KEPT:
            self._changed.clear()
            self._loaded.clear()
            self._floor = self._tick
        self._changed[webhook_id] = self._tick

    def stale(self, lease: Lease) -> bool:
        return lease.seen < self._floor or (bool(self._changed) and
                                            self._changed.get(lease.delivery.webhook_id, -1) > lease.seen)

    async def refresh(self, lease: Lease) -> None:
        """Give the lease its webhook as it is now (None once deleted), read once per change."""
        webhook_id, tick = lease.delivery.webhook_id, self._tick
        loaded = self._loaded.get(webhook_id)
        if loaded is None or loaded[0] < self._changed.get(webhook_id, self._floor):
            loaded = self._loaded[webhook_id] = (tick, await load_target(webhook_id))
        lease.seen, lease.webhook = loaded
