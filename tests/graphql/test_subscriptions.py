"""The WebSocket protocols themselves: handshake, auth, scopes, limits, keep-alive, documents.

What each subscription receives is in test_subscriptions_feeds.py, volume and replicas in
test_subscriptions_delivery.py.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import Tenant
from tests.graphql.conftest import LocalApp
from tests.graphql.ws import PENDING, Governance, gql_ws


async def test_legacy_protocol_and_header_auth(server: str, tenant: Tenant) -> None:
    async with tenant.client() as c, gql_ws(server, protocol="graphql-ws", headers=tenant.headers) as ws:
        await ws.send({"type": "start", "id": "a", "payload": {"query": "subscription { events(types: [\"action.*\"]) "
                                                                      "{ seq event data } }"}})
        await asyncio.sleep(0.2)
        await Governance(c).propose("refund", "approved")  # no policy: approved at once
        message = await ws.next_data()
        assert message["type"] == "data" and message["id"] == "a"
        assert message["payload"]["data"]["events"]["event"] == "action.approved"


async def test_queries_over_the_socket_count_against_the_rate_limit(server: str, tenant: Tenant) -> None:
    """A mutation sent over one WebSocket is limited exactly as over HTTP."""
    async with tenant.client() as c:
        small = (await c.post("/api/v1/api-keys", json={"name": "s", "scopes": ["admin"], "rateLimit": 3})).json()
    async with gql_ws(server, small["key"]) as ws:
        for number in range(3):
            await ws.subscribe(f"q{number}", "{ viewer { organization { id } } }")
            assert (await ws.next_data())["payload"]["data"]["viewer"]["organization"]["id"] == tenant.organization_id
            assert (await ws.recv())["type"] == "complete"
        await ws.subscribe("over", "{ viewer { organization { id } } }")
        refused = await ws.recv()
    assert refused["type"] == "error" and refused["id"] == "over"
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_queries_over_the_socket_and_validation_errors(server: str, tenant: Tenant) -> None:
    async with gql_ws(server, tenant.key) as ws:
        await ws.subscribe("q", "{ viewer { organization { id } } }")
        answer = await ws.next_data()
        assert answer["payload"]["data"]["viewer"]["organization"]["id"] == tenant.organization_id
        assert (await ws.recv())["type"] == "complete"
        await ws.subscribe("bad", "subscription { nope }")
        error = await ws.recv()
        assert error["type"] == "error" and error["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        await ws.subscribe("glob", 'subscription { events(types: ["nothing.*"]) { seq } }')
        assert (await ws.recv())["payload"][0]["extensions"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(("query", "variables"), [
    (PENDING, {"since": 5}),  # a number where the variable is a String
    ("subscription($s: String!) { pendingApprovals(since: $s) { seq } }", {}),  # a required one missing
    ("subscription($t: [String!]) { events(types: $t) { seq } }", {"t": [None]}),
])
async def test_a_subscriptions_bad_variables_are_refused_with_a_code(
    server: str, tenant: Tenant, query: str, variables: dict[str, object]
) -> None:
    """The error frame for variables that do not fit their types carried no `extensions.code` (a
    query's, over the socket or HTTP, carries BAD_REQUEST): a client keyed on the code saw none."""
    async with gql_ws(server, tenant.key) as ws:
        await ws.subscribe("v", query, variables)
        error = await ws.recv()
        assert (error["type"], error["id"]) == ("error", "v"), error
        assert [e["extensions"]["code"] for e in error["payload"]] == ["BAD_REQUEST"], error
        assert "Variable '$" in error["payload"][0]["message"]


async def test_scopes_are_checked_per_subscription(server: str, tenant: Tenant) -> None:
    async with tenant.client() as c:
        key = (await c.post("/api/v1/api-keys", json={"name": "ro", "scopes": ["actions:read"]})).json()["key"]
    async with gql_ws(server, key) as ws:
        await ws.subscribe("p", PENDING)
        error = await ws.recv()
        assert (error["type"], error["id"]) == ("error", "p")
        assert error["payload"] == [{"message": "this API key lacks the 'approvals:read' scope",
                                     "extensions": {"code": "FORBIDDEN"}}]
        await ws.subscribe("a", "subscription { actionUpdated { seq } }")
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"  # no error for the allowed one


async def test_close_codes(local_app: LocalApp, tenant: Tenant) -> None:
    async with local_app(ws_init_timeout_seconds=0.3) as (url, _app):
        async with gql_ws(url, init=False) as ws:
            await ws.send({"type": "connection_init", "payload": {"apiKey": "sk_not_a_key"}})
            assert await ws.closed_with() == 4403
        async with gql_ws(url, init=False, headers={"Authorization": "Bearer sk_nope"}) as ws:
            await ws.send({"type": "connection_init"})
            assert await ws.closed_with() == 4403
        async with gql_ws(url, init=False) as ws:
            assert await ws.closed_with() == 4408
        async with gql_ws(url, tenant.key) as ws:
            await ws.send({"type": "connection_init", "payload": {"apiKey": tenant.key}})
            assert await ws.closed_with() == 4429
        async with gql_ws(url, init=False) as ws:
            await ws.subscribe("1", PENDING)
            assert await ws.closed_with() == 4401
        async with gql_ws(url, init=False, protocol="graphql-ws") as ws:  # legacy clients may not skip init
            await ws.send({"type": "start", "id": "1", "payload": {"query": PENDING}})
            assert await ws.closed_with() == 4401


async def test_revoking_the_key_ends_its_subscriptions(server: str, tenant: Tenant) -> None:
    async with tenant.client() as c:
        created = (await c.post("/api/v1/api-keys", json={"name": "dash", "scopes": ["approvals:read"]})).json()
    async with gql_ws(server, created["key"]) as ws:
        await ws.subscribe("1", PENDING)
        await asyncio.sleep(0.1)
        async with tenant.client() as c:
            assert (await c.delete(f"/api/v1/api-keys/{created['id']}")).status_code == 200
        started = asyncio.get_running_loop().time()
        assert await ws.closed_with(within=2) == 4403
        assert asyncio.get_running_loop().time() - started < 1.0


async def test_subscriptions_per_connection_are_capped(local_app: LocalApp, tenant: Tenant) -> None:
    async with local_app(ws_max_subscriptions=3) as (url, _app), gql_ws(url, tenant.key) as ws:
        for n in range(3):
            await ws.subscribe(str(n), "subscription { actionUpdated { seq } }")
        await ws.subscribe("over", PENDING)
        error = await ws.recv()
        assert (error["type"], error["id"]) == ("error", "over")
        assert error["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        await ws.send({"type": "complete", "id": "0"})  # completing one frees its place
        await ws.subscribe("again", PENDING)
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"


async def test_malformed_messages_and_protocols(server: str, tenant: Tenant) -> None:
    async with gql_ws(server, tenant.key) as ws:
        await ws.ws.send("not json")
        assert await ws.closed_with() == 4400
    async with gql_ws(server, tenant.key) as ws:
        await ws.subscribe("1", PENDING)
        await ws.subscribe("1", PENDING)
        assert await ws.closed_with() == 4409
    async with gql_ws(server, init=False, protocol="graphql-something") as ws:
        assert await ws.closed_with() == 4406


@pytest.mark.parametrize("name", [None, "C"])
async def test_an_ambiguous_or_unknown_subscription_name_is_answered_as_such(
    server: str, tenant: Tenant, name: str | None
) -> None:
    """Two subscriptions and no (or an unknown) operationName ran as a query: INTERNAL before, then
    the HTTP-only refusal 'not over HTTP' (the socket is where subscriptions are served)."""
    query = "subscription A { events { seq } } subscription B { events { seq } }"
    async with gql_ws(server, tenant.key) as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": query, "operationName": name}})
        answer = await ws.recv()
    assert answer["type"] == "error", answer
    assert "operation name" in answer["payload"][0]["message"], answer


@pytest.mark.parametrize("acked", [False, True])
async def test_a_binary_frame_closes_with_4400(server: str, tenant: Tenant, acked: bool) -> None:
    """graphql-transport-ws is JSON text: a binary frame, before or after the ack, is a malformed
    message. It used to end the connection's reader unnoticed, leaving the socket open and silent
    for ever (no 4408 either), and holding up the server's shutdown."""
    async with gql_ws(server, tenant.key, init=acked) as ws:
        await ws.ws.send(b'{"type": "ping"}')
        assert await ws.closed_with() == 4400


async def test_legacy_clients_get_ka_after_the_ack_and_periodically(local_app: LocalApp, tenant: Tenant) -> None:
    async with local_app(ws_keepalive_seconds=0.2) as (url, _app):
        async with gql_ws(url, tenant.key, protocol="graphql-ws") as legacy:
            loop = asyncio.get_running_loop()
            started = loop.time()
            kinds = [(await legacy.recv(within=1, skip_ka=False))["type"] for _ in range(4)]
            assert kinds == ["ka"] * 4 and 0.5 < loop.time() - started < 1.5
        async with gql_ws(url, tenant.key) as modern:  # graphql-transport-ws has ping/pong instead of ka
            await modern.send({"type": "ping", "payload": {"at": 1}})
            assert (await modern.recv())["type"] == "pong"
            await modern.send({"type": "pong"})  # an unsolicited pong is allowed and ignored
            with pytest.raises(TimeoutError):
                await modern.recv(within=0.6)


async def test_ping_is_answered_before_the_handshake(server: str) -> None:
    async with gql_ws(server, init=False) as ws:
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"


async def test_the_root_field_may_sit_in_a_fragment(server: str, tenant: Tenant) -> None:
    documents = [
        "subscription { ...F } fragment F on Subscription { pendingApprovals { change action { id } } }",
        "subscription { ... on Subscription { ...F } } fragment F on Subscription { pendingApprovals { change } }",
        "subscription S { ... { pendingApprovals { change } } }",
    ]
    async with tenant.client() as c, gql_ws(server, tenant.key) as ws:
        gov = Governance(c)
        await gov.enforce()
        for n, query in enumerate(documents):
            await ws.subscribe(str(n), query)
        await asyncio.sleep(0.2)
        proposed = await gov.propose("send_email")
        frames = {m["id"]: m["payload"]["data"]["pendingApprovals"] for m in [await ws.next_data() for _ in documents]}
        assert frames["0"] == {"change": "created", "action": {"id": proposed["actionId"]}}
        assert frames["1"] == frames["2"] == {"change": "created"}
        await ws.subscribe("two", "subscription { ...F } fragment F on Subscription { pendingApprovals { seq } "
                                  "actionUpdated { seq } }")
        error = await ws.recv()
        assert error["type"] == "error" and "only one top level field" in error["payload"][0]["message"]
        assert error["payload"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_open_connections_per_key_are_capped(local_app: LocalApp, tenant: Tenant, other_tenant: Tenant) -> None:
    """A key past GATEHOUSE_WS_MAX_CONNECTIONS_PER_KEY open connections on a server is closed with
    1008 at its handshake; other keys are not counted against it, and a closed connection frees its
    place. Before, one key could hold any number of sockets (each with its send queue)."""
    async with local_app(ws_max_connections_per_key=2) as (url, _app), \
            gql_ws(url, tenant.key) as first, gql_ws(url, tenant.key):
        async with gql_ws(url, tenant.key, init=False) as third:
            await third.send({"type": "connection_init", "payload": {"apiKey": tenant.key}})
            assert await third.closed_with() == 1008
            assert "at most 2" in (third.ws.close_reason or "")
        async with gql_ws(url, other_tenant.key) as other:
            await other.send({"type": "ping"})
            assert (await other.recv())["type"] == "pong"
        await first.ws.close()
        assert await _acknowledged_within(url, tenant.key, 5.0)  # once the server has seen it go


async def _acknowledged_within(url: str, key: str, seconds: float) -> bool:
    """Whether a new connection of `key` is acknowledged before `seconds` pass (tried again while
    the server still counts a connection the client has just closed)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        async with gql_ws(url, key, init=False) as again:
            with contextlib.suppress(ConnectionClosed):  # 1008: still counted
                if (await again.init({"apiKey": key}))["type"] == "connection_ack":
                    return True
        await asyncio.sleep(0.05)
    return False
