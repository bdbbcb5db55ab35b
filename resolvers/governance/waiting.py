"""Waiting for a decision: answer an action as soon as it is decided, or when the time is up.

Shared by every long-poll (MCP's ``wait_for_decision`` and ``propose_action(wait_seconds)``). The
waiter listens on the bus's event channel, where the relay publishes committed events, and re-reads
the row when an event names its action; it holds no database connection while it waits. A re-read
every POLL_SECONDS covers a lost publish (Redis may restart without losing data).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import orjson

from models.governance import Action
from resolvers.context import Context
from resolvers.events.outbox import EVENTS_CHANNEL
from resolvers.governance.actions import get

POLL_SECONDS = 2.0


def _names(message: bytes, action_id: str) -> bool:
    """Whether a relayed batch (one JSON array of envelopes) carries an event of `action_id`."""
    if action_id.encode() not in message:
        return False
    try:
        batch = orjson.loads(message)
    except orjson.JSONDecodeError:
        return True  # cannot tell: a re-read is cheap
    envelopes = batch if isinstance(batch, list) else [batch]
    return any((e.get("data") or {}).get("actionId") == action_id for e in envelopes if isinstance(e, dict))


async def wait_decided(ctx: Context, action_id: str, seconds: float) -> Action:
    """The action once it is no longer pending, or as it stands after `seconds`."""
    woken = asyncio.Event()
    subscription = await ctx.bus.subscribe(EVENTS_CHANNEL, lambda _c, m: woken.set() if _names(m, action_id) else None)
    try:
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            action = await get(ctx, action_id)
            left = deadline - time.monotonic()
            if action.status != "pending_approval" or left <= 0:
                return action
            woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), min(left, POLL_SECONDS))
    finally:
        await subscription.close()
