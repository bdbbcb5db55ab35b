"""The relay's coalesced wake under uvloop, the loop `gatehouse serve` and `gatehouse worker` run on.

uvloop hands back a plain Handle, which has no `when()`, for a callback due within half a
millisecond. A wake scheduled that close (a pause of the process between reading the clock and
scheduling is enough) made every later commit's `schedule_wake` raise AttributeError, after that
commit: seen in figure 7's burst, 17 executions whose start had committed were abandoned until their
30 s lease ran out, and a proposal committed in that moment would have been answered 500.
"""

from __future__ import annotations

import asyncio

import uvloop

from app.core.bus import Bus
from app.core.senders import OutgoingClient
from app.core.settings import load_settings
from resolvers.context import Services
from resolvers.events.outbox import OUTBOX_WAKE_CHANNEL, schedule_wake


async def _listening() -> tuple[Services, list[bytes]]:
    """Services on an in-process bus, and the relay wakes published on it."""
    services = Services(settings=load_settings(), bus=Bus(), http=OutgoingClient(allow_private=False))
    heard: list[bytes] = []
    await services.bus.subscribe(OUTBOX_WAKE_CHANNEL, lambda _channel, message: heard.append(message))
    return services, heard


async def _wakes_heard(schedule: list[float], settle: float = 0.1) -> list[bytes]:
    """Schedule one wake per entry of `schedule` (its `within`), back to back; the wakes published."""
    services, heard = await _listening()
    for within in schedule:
        schedule_wake(services, within)
    await asyncio.sleep(settle)
    return heard


def test_a_wake_due_at_once_does_not_break_the_commits_after_it() -> None:
    assert uvloop.run(_wakes_heard([0.0, 0.002, 0.05])) == [b"1"]


def test_a_sooner_wake_replaces_a_later_one_and_one_wake_covers_both() -> None:
    async def sooner_then_later() -> tuple[list[bytes], list[bytes]]:
        services, heard = await _listening()
        for within in (0.5, 0.0, 0.002):
            schedule_wake(services, within)
        await asyncio.sleep(0.1)  # long before the first wake's 0.5 s: only the sooner one can be heard
        early = list(heard)
        await asyncio.sleep(0.5)  # past 0.5 s: the replaced wake was cancelled, not sent as well
        return early, heard

    assert uvloop.run(sooner_then_later()) == ([b"1"], [b"1"])


def test_a_wake_sent_leaves_room_for_the_next_one_on_the_same_bus() -> None:
    async def twice() -> list[bytes]:
        services, heard = await _listening()
        schedule_wake(services, 0.0)
        await asyncio.sleep(0.02)
        schedule_wake(services, 0.0001)  # a sent wake must not stand in for this one
        schedule_wake(services, 0.002)
        await asyncio.sleep(0.02)
        return heard

    assert uvloop.run(twice()) == [b"1", b"1"]
