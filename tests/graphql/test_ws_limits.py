"""A `gatehouse serve` process holds a WebSocket message to the bound it holds an HTTP body to
(`GATEHOUSE_MAX_BODY_BYTES`): the same mutation cannot pass one door that the other refuses."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from models.governance import Action
from tests.conftest import DATABASE_URL, REDIS_URL, Tenant, free_port
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
