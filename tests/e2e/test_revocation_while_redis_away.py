"""A revocation or a kill switch the bus never carried still ends the key's open subscriptions.

Redis pub/sub keeps nothing: a key revoked (or an agent disabled) while Redis is away has its
message dropped, and a server whose own subscription was down misses it. The server had no other
word of it: its WebSocket clients on that key stayed connected for good, receiving every later
event of the organization. Each server now also reads its connections' keys and agents from the
database every GATEHOUSE_WS_AUTH_RECHECK_SECONDS.
"""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.agents.helpers import bound_key, register
from tests.conftest import Tenant, free_port
from tests.e2e.test_outages import _organization, private_postgres, private_redis, redis_on
from tests.graphql.ws import PENDING, Governance, GqlClient, gql_ws
from tests.processes import gatehouse_env, running

RECHECK = 1.0
UPDATES = "subscription { events(types: [\"action.*\"]) { seq event } }"


async def _next_or_close(ws: GqlClient, within: float) -> dict[str, Any] | int | None:
    """The next frame, or the close code once the server closes; None when neither comes in time."""
    try:
        return await ws.recv(within)
    except ConnectionClosed:
        return ws.ws.close_code
    except TimeoutError:
        return None


async def test_a_key_revoked_or_an_agent_disabled_while_redis_is_away_has_its_subscriptions_closed() -> None:
    with private_postgres() as pg, private_redis() as (redis_port, redis_proc):
        env = gatehouse_env(DATABASE_URL=pg.url, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                            GATEHOUSE_INPROCESS_WORKERS="true", GATEHOUSE_WS_AUTH_RECHECK_SECONDS=str(RECHECK))
        admin = _organization(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with running("serve", "--host", "127.0.0.1", "--port", str(port), env=env, port=port):
            tenant = Tenant("", admin, base)
            agent = await register(tenant, "mailer")
            agent_key = await bound_key(tenant, agent["id"])
            async with tenant.client() as c:
                governance = Governance(c)
                await governance.enforce()
                dash = (await c.post("/api/v1/api-keys", json={"name": "dash", "scopes": ["approvals:read"]})).json()
                async with gql_ws(base, dash["key"]) as revoked_ws, gql_ws(base, agent_key) as agent_ws:
                    await revoked_ws.subscribe("1", PENDING)
                    await agent_ws.subscribe("1", UPDATES)
                    await governance.propose("send_email")
                    assert (await revoked_ws.next_data(15))["id"] == "1"  # both live before the outage
                    assert (await agent_ws.next_data(15))["id"] == "1"
                    redis_proc.kill()
                    redis_proc.wait()
                    revoked = await c.delete(f"/api/v1/api-keys/{dash['id']}")  # their bus messages are dropped
                    disabled = await c.patch(f"/agents/{agent['id']}", json={"status": "disabled"})
                    assert (revoked.status_code, disabled.status_code) == (200, 200), (revoked.text, disabled.text)
                    with redis_on(redis_port):
                        await asyncio.sleep(2)  # the bus is back
                        after = await governance.propose("send_email")
                        answers = [await _next_or_close(ws, RECHECK + 5) for ws in (revoked_ws, agent_ws)]
    assert answers == [4403, 4403], f"after revocation and kill switch: {answers} (proposal {after['actionId']})"
