"""A `gatehouse serve` process holds a WebSocket message to the bound it holds an HTTP body to
(`GATEHOUSE_MAX_BODY_BYTES`): the same mutation cannot pass one door that the other refuses. What a
message may hold is not kept after its operation ends."""

from __future__ import annotations

import gc
import tracemalloc

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from models.governance import Action
from tests.conftest import DATABASE_URL, REDIS_URL, Tenant, free_port
from tests.graphql.conftest import LocalApp
from tests.graphql.ws import gql_ws
from tests.processes import gatehouse_env, running

LIMIT = 8192
PROPOSE = ('mutation($p: JSON) { proposeAction(input: {type: "big", actor: {kind: "agent"}, params: $p}) '
           "{ status } }")


async def test_a_websocket_message_past_the_body_limit_is_refused_as_an_http_body_is(tenant: Tenant) -> None:
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, GATEHOUSE_INPROCESS_WORKERS="false",
                        GATEHOUSE_MAX_BODY_BYTES=str(LIMIT))
    port = free_port()
    params = {"blob": "x" * (2 * LIMIT)}
    with running("serve", "--port", str(port), env=env, port=port):
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, headers=tenant.headers, timeout=10) as c:
            over_http = await c.post("/graphql", json={"query": PROPOSE, "variables": {"p": params}})
        assert over_http.status_code == 413, over_http.text
        async with gql_ws(base, tenant.key) as ws:
            await ws.subscribe("1", PROPOSE, {"p": params})
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009, closed.value  # message too big
    assert not await Action.filter(organization_id=tenant.organization_id, type="big").exists()


async def test_documents_sent_over_the_socket_are_not_kept_once_their_operations_end(
    local_app: LocalApp, tenant: Tenant
) -> None:
    """Parsed documents are cached by their text (512 of them) for the dashboards that subscribe with
    the same few. A comment or a string literal is one token or none, so a key could send documents
    of up to a message's size, each subscribed and completed at once: every one stayed in the cache
    (512 MB a process at the 1 MB bound), long after its operation ended. Large ones are no longer
    kept."""
    padding = 200_000
    async with local_app() as (url, _app), gql_ws(url, tenant.key) as ws:
        await ws.subscribe("warm", "subscription { actionUpdated { seq } } # warm-up")
        await ws.send({"type": "complete", "id": "warm"})
        tracemalloc.start()
        gc.collect()
        baseline = tracemalloc.get_traced_memory()[0]
        for n in range(30):
            await ws.subscribe(str(n), f"subscription {{ actionUpdated {{ seq }} }} # {n} {'x' * padding}")
            await ws.send({"type": "complete", "id": str(n)})
        await ws.send({"type": "ping"})
        assert (await ws.recv(120))["type"] == "pong"  # all read (slower while memory is traced)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - baseline
        tracemalloc.stop()
    assert grown < 2_000_000, f"{grown:,} bytes kept after 30 documents of {padding:,} characters ended"
