"""The console's live list through a server restart: it says it is reconnecting, then catches up
(with `since`) on what changed while its socket was down.

The browser talks to a real `gatehouse serve` process on the test database; while that process is
stopped, the in-process test server (same database and Redis) keeps taking agents' actions and
decisions, exactly as another replica would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tests.conftest import DATABASE_URL, REDIS_URL, Tenant, free_port
from tests.console.conftest import OpenReviewer
from tests.console.scenario import decide, enforce, propose
from tests.processes import gatehouse_env, running


@contextlib.asynccontextmanager
async def serving(port: int) -> AsyncIterator[str]:
    """`gatehouse serve` on `port` until the block ends (started and stopped off the event loop)."""
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, GATEHOUSE_INPROCESS_WORKERS="false",
                        GATEHOUSE_DB_POOL_SIZE="4", GATEHOUSE_LOG_JSON="false")
    with contextlib.ExitStack() as stack:
        await asyncio.to_thread(stack.enter_context, running("serve", "--port", str(port), env=env, port=port))
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await asyncio.to_thread(stack.close)


async def test_the_list_reconnects_and_catches_up_after_a_restart(
    server: str, tenant: Tenant, reviewer: OpenReviewer
) -> None:
    await enforce(tenant)
    first = await propose(tenant, params={"subject": "before the restart"})
    port = free_port()
    async with serving(port) as url:
        person = await reviewer(url)
        await person.open("/console/")
        await person.sign_in(tenant.key)
        await person.live_state("live")
        await person.card(first["actionId"])
        await person.page.evaluate("window.sameDocument = true")
        await person.page.wait_for_timeout(300)  # the subscription is joined before the socket goes

    await person.live_state("reconnecting")
    assert "Reconnecting" in await person.text("#live")
    missed = await propose(tenant, params={"subject": "while the console was away"})
    await decide(tenant, first, "approve")

    async with serving(port):
        await person.live_state("live", within=30)
        await person.card(missed["actionId"], within=15)
        await person.no_card(first["actionId"], within=15)
        assert "1 action waiting" in await person.text()
        newest = await propose(tenant, params={"subject": "after the restart"}, base_url=url)
        await person.card(newest["actionId"])
    assert await person.page.evaluate("window.sameDocument") is True  # no reload: the same page caught up
    assert len(person.sockets) >= 2
