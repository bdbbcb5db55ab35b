"""GraphQL subscriptions over WebSocket (graphql-transport-ws and graphql-ws), against the live server."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Tenant
from tests.graphql.conftest import LocalApp
from tests.graphql.ws import PENDING, Emitter, gql_ws, pending_data


async def test_pending_approvals_created_then_approved(server: str, tenant: Tenant, emitter: Emitter) -> None:
    async with gql_ws(server, tenant.key) as ws:
        await ws.subscribe("1", PENDING)
        await asyncio.sleep(0.2)
        seq = await emitter.emit(tenant.organization_id, "action.pending_approval", pending_data("act_1"))
        created = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
        assert created["seq"] == seq and created["change"] == "created"
        assert created["approval"] == {"id": "apr_1", "actionId": "act_1", "status": "pending"}
        assert created["action"] == {"id": "act_1", "type": "send_email", "status": "pending_approval",
                                     "params": {"to": "a@b.c"}}
        await emitter.emit(tenant.organization_id, "action.approved", pending_data("act_1", "approved"))
        approved = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
        assert approved["change"] == "approved" and approved["approval"]["status"] == "approved"
        assert approved["seq"] > seq


async def test_legacy_protocol_and_header_auth(server: str, tenant: Tenant, emitter: Emitter) -> None:
    async with gql_ws(server, protocol="graphql-ws", headers=tenant.headers) as ws:
        await ws.send({"type": "start", "id": "a", "payload": {"query": "subscription { events(types: [\"action.*\"]) "
                                                                      "{ seq event data } }"}})
        await asyncio.sleep(0.2)
        await emitter.emit(tenant.organization_id, "action.rejected", pending_data("act_9", "rejected"))
        message = await ws.next_data()
        assert message["type"] == "data" and message["id"] == "a"
        assert message["payload"]["data"]["events"]["event"] == "action.rejected"


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


async def test_scopes_are_checked_per_subscription(server: str, tenant: Tenant) -> None:
    async with tenant.client() as c:
        key = (await c.post("/api/v1/api-keys", json={"name": "ro", "scopes": ["actions:read"]})).json()["key"]
    async with gql_ws(server, key) as ws:
        await ws.subscribe("p", PENDING)
        error = await ws.recv()
        assert error["type"] == "error" and error["payload"][0]["extensions"]["code"] == "FORBIDDEN"
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


@pytest.mark.parametrize("variables", [{}, {"since": "0"}])
async def test_another_organization_receives_nothing(
    server: str, tenant: Tenant, other_tenant: Tenant, emitter: Emitter, variables: dict
) -> None:
    queries = [
        PENDING,
        "subscription { actionUpdated { seq action { id } } }",
        'subscription { actionUpdated(id: "act_a") { seq } }',
        "subscription { executionUpdated { seq } }",
        'subscription { events(types: ["*"]) { seq data } }',
        "subscription { events { seq data } }",
    ]
    await emitter.emit(tenant.organization_id, "action.pending_approval", pending_data("act_a"))
    async with gql_ws(server, other_tenant.key) as spy, gql_ws(server, tenant.key) as owner:
        for n, query in enumerate(queries):
            await spy.subscribe(str(n), query, variables)
        await owner.subscribe("own", "subscription { actionUpdated { seq } }")
        await asyncio.sleep(0.2)
        for event in ("action.approved", "workflow.started"):
            await emitter.emit(tenant.organization_id, event, {**pending_data("act_a"), "executionId": "exec_a"})
        assert (await owner.next_data())["id"] == "own"
        await spy.send({"type": "ping"})
        assert (await spy.recv(within=2))["type"] == "pong"
        with pytest.raises(TimeoutError):
            await spy.recv(within=1)


async def test_acceptance_propose_over_rest_under_enforce_policy_then_approve(server: str, tenant: Tenant) -> None:
    async with tenant.client() as c, gql_ws(server, tenant.key) as ws:
        assert (await c.post("/policy", json={"rules": [{"when": {"actionType": "send_email"}}]})).status_code == 201
        await ws.subscribe("1", PENDING)
        await asyncio.sleep(0.2)
        proposed = (await c.post("/actions", json={"type": "send_email", "actor": {"kind": "agent"}})).json()
        assert proposed["status"] == "pending_approval"
        created = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
        assert (created["change"], created["action"]["id"]) == ("created", proposed["actionId"])
        assert created["approval"] == {"id": "apr_" + proposed["actionId"][4:], "actionId": proposed["actionId"],
                                       "status": "pending"}
        assert (await c.post(f"/approve/{proposed['actionId']}", json={})).status_code == 200
        approved = (await ws.next_data())["payload"]["data"]["pendingApprovals"]
        assert (approved["change"], approved["action"]["status"]) == ("approved", "approved")
        assert approved["approval"]["id"] == created["approval"]["id"]
        await c.post("/policy", json={"rules": [{"when": {"actionType": "refund"}, "deny": True}]})
        for kind, status in (("other", "approved"), ("refund", "rejected")):
            answer = await c.post("/actions", json={"type": kind, "actor": {"kind": "agent"}})
            assert answer.json()["status"] == status
        with pytest.raises(TimeoutError):  # decided at once by policy: never in the pending set
            await ws.recv(within=1.5)
