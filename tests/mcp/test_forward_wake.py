"""The gateway's forwarders are woken by a one-byte wake when a relayed batch decides actions, and
by nothing else (they used to hear every relayed batch of events)."""

from __future__ import annotations

import asyncio

from app.core.after_commit import atomic
from app.core.bus import build_bus
from models.events import UnrelayedEvent
from resolvers.events import outbox
from resolvers.mcp.calls import FORWARD_WAKE_CHANNEL
from tests.conftest import REDIS_URL, Tenant
from tests.webhooks.conftest import server_services
from tests.webhooks.receiver import eventually


async def _emit(tenant: Tenant, event_type: str) -> None:
    async with atomic():
        await outbox.emit(server_services(), tenant.organization_id, event_type, {"actionId": "act_x"})


async def _relayed() -> bool:
    return not await UnrelayedEvent.exists()


async def test_a_decision_wakes_the_forwarders_and_other_events_do_not(tenant: Tenant) -> None:
    heard: list[bytes] = []
    bus = build_bus(REDIS_URL)  # a listener of its own, as a worker's
    await bus.start()
    await bus.subscribe(FORWARD_WAKE_CHANNEL, lambda _c, m: heard.append(m))
    try:
        await _emit(tenant, "action.pending_approval")
        await eventually(_relayed)
        await asyncio.sleep(0.2)  # a wake published after that batch's commit would be here by now
        assert heard == []
        await _emit(tenant, "action.rejected")
        await eventually(lambda: heard == [b"1"], within=3)
    finally:
        await bus.close()
