"""Agents that wait: answer a read of a pending action as soon as it is decided, on any replica.

Every decision publishes the action's id on DECIDED_CHANNEL after it commits (records.announce).
Each process holds one bus subscription for it and a map of action id -> waiting futures, so a
long-poll costs one future and no database connection while it waits: the action is read before
and after, never in a loop. A lost bus message only makes the wait run to its timeout, which
then answers the action as it stands.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from models.governance import Action
from resolvers.context import Context, Services
from resolvers.errors import Invalid
from resolvers.governance import actions
from resolvers.governance.records import DECIDED_CHANNEL

MAX_WAIT_SECONDS: Final = 60
_EXTRAS_KEY: Final = "governance.decision_waiters"


@dataclass(slots=True)
class Waiters:
    """action id -> futures of the requests waiting for its decision, in this process."""

    futures: dict[str, set[asyncio.Future[None]]] = field(default_factory=lambda: defaultdict(set))
    subscribed: bool = False

    def on_message(self, _channel: str, message: bytes) -> None:
        for future in self.futures.pop(message.decode(errors="replace"), ()):
            if not future.done():
                future.set_result(None)

    def forget(self, action_id: str, future: asyncio.Future[None]) -> None:
        waiting = self.futures.get(action_id)
        if waiting is not None:
            waiting.discard(future)
            if not waiting:
                del self.futures[action_id]


async def _waiters(services: Services) -> Waiters:
    waiters = services.extras.get(_EXTRAS_KEY)
    if waiters is None:
        waiters = services.extras[_EXTRAS_KEY] = Waiters()
    if not waiters.subscribed:
        waiters.subscribed = True
        await services.bus.subscribe(DECIDED_CHANNEL, waiters.on_message)
    assert isinstance(waiters, Waiters)
    return waiters


def wait_seconds(raw: object) -> int | None:
    """`wait` as given (a whole number 0..60), or None when absent; Invalid otherwise."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
        raise Invalid(f"wait: must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}")
    seconds = int(raw)
    if seconds > MAX_WAIT_SECONDS:
        raise Invalid(f"wait: must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}")
    return seconds


async def get_when_decided(ctx: Context, action_id: str, seconds: float) -> Action:
    """The action once it is no longer pending, or as it stands after `seconds` (not an error)."""
    action = await actions.get(ctx, action_id)
    if action.status != "pending_approval" or seconds <= 0:
        return action
    waiters = await _waiters(ctx.services)
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.futures[action.id].add(future)
    try:
        action = await actions.get(ctx, action_id)  # decided between the first read and subscribing
        if action.status == "pending_approval":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(future, seconds)
            action = await actions.get(ctx, action_id)
    finally:
        waiters.forget(action.id, future)
    return action


async def wait_decided(ctx: Context, action_id: str, seconds: float) -> Action:
    """MCP's name for the same wait (`wait_for_decision`, `propose_action(wait_seconds)`)."""
    return await get_when_decided(ctx, action_id, seconds)
