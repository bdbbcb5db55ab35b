"""Resuming is exact with many relays: three relay workers race on one organization's burst, whose
transactions commit out of the order they took their rows' seqs; a subscriber that stays sees every
event once in seq order, and one that drops halfway and comes back with `since` gets exactly the rest."""

from __future__ import annotations

import asyncio
from typing import Any

from app.core.after_commit import atomic
from app.core.bus import build_bus
from app.core.senders import OutgoingClient
from app.core.settings import Settings
from resolvers.context import Services
from resolvers.events.outbox import emit
from resolvers.events.relay import run_relay
from tests.conftest import Tenant
from tests.graphql.ws import PENDING, GqlClient, gql_ws

WRITERS, EVENTS_EACH = 30, 10  # 300 events over 30 concurrent transactions


async def _write(services: Services, org_id: str, writer: int, pause: float) -> list[str]:
    """One transaction emitting EVENTS_EACH events, pausing between them so that the writers' seqs
    interleave and their commits come in another order."""
    ids = []
    async with atomic():
        for n in range(EVENTS_EACH):
            data = {"actionId": f"act_w{writer}n{n}", "approvalId": f"apr_w{writer}n{n}", "status": "pending_approval"}
            ids.append((await emit(services, org_id, "action.pending_approval", data)).id)
            await asyncio.sleep(pause)
    return ids


async def _read(ws: GqlClient, count: int, within: float = 20.0) -> list[tuple[int, str]]:
    """(seq, event id) of the next `count` changes."""
    seen = []
    for _ in range(count):
        change = (await ws.next_data(within))["payload"]["data"]["pendingApprovals"]
        seen.append((change["seq"], change["eventId"]))
    return seen


def _in_order_once(seen: list[tuple[int, str]]) -> None:
    seqs = [seq for seq, _ in seen]
    assert seqs == sorted(set(seqs)), "seqs arrive increasing, none twice"
    assert len({event_id for _, event_id in seen}) == len(seen), "no event twice"


async def test_three_relays_racing_deliver_a_burst_once_in_order_and_since_resumes_exactly(
    server: str, tenant: Tenant, settings: Settings
) -> None:
    relays = [Services(settings, build_bus(settings.redis_url), OutgoingClient(allow_private=False)) for _ in range(3)]
    stop = asyncio.Event()
    for services in relays:
        await services.bus.start()
    workers = [asyncio.create_task(run_relay(services, stop)) for services in relays]
    total = WRITERS * EVENTS_EACH
    query = PENDING.replace("seq timestamp change", "seq eventId change")
    try:
        async with gql_ws(server, tenant.key) as stays, gql_ws(server, tenant.key) as drops:
            await stays.subscribe("s", query)
            await drops.subscribe("d", query)
            await asyncio.sleep(0.3)
            writes = asyncio.gather(*(
                _write(relays[w % 3], tenant.organization_id, w, pause=0.001 * (w % 7)) for w in range(WRITERS)))
            first_half = await _read(drops, total // 2)
            await drops.ws.close()
            emitted = {event_id for ids in await writes for event_id in ids}
            everything = await _read(stays, total)
        async with gql_ws(server, tenant.key) as back:
            await back.subscribe("b", query, {"since": str(first_half[-1][0])})
            rest = await _read(back, total - len(first_half))
            assert await _quiet(back), "nothing more after the rest"
    finally:
        stop.set()
        await asyncio.gather(*workers)
        for services in relays:
            await services.bus.close()
            await services.http.aclose()

    _in_order_once(everything)
    assert {event_id for _, event_id in everything} == emitted
    _in_order_once(first_half + rest)
    assert {event_id for _, event_id in first_half + rest} == emitted


async def _quiet(ws: GqlClient) -> bool:
    try:
        message: dict[str, Any] = await ws.recv(within=1.0)
    except TimeoutError:
        return True
    return message.get("type") not in ("next", "data")
