"""A small graphql-transport-ws client over the `websockets` package, and ways to produce events.

Events come from the REST API the way a client makes them (Governance); Emitter writes through the
outbox only what REST cannot produce yet (workflow events), publish_envelopes floods the bus for
volume tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from app.core.after_commit import atomic
from app.core.bus import build_bus
from app.core.senders import OutgoingClient
from app.core.settings import Settings
from resolvers.context import Services
from resolvers.events.outbox import emit

PENDING = "subscription($since: String) { pendingApprovals(since: $since) { seq timestamp change " \
          "approval { id actionId status } action { id type status params } } }"


class GqlClient:
    """One WebSocket connection speaking graphql-transport-ws (or the legacy graphql-ws)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def recv(self, within: float = 5.0, *, skip_ka: bool = True) -> dict[str, Any]:
        """The next message; legacy keep-alives (`ka`) are skipped as clients do, unless asked for."""
        async with asyncio.timeout(within):
            while True:
                message: dict[str, Any] = orjson.loads(await self.ws.recv())
                if not (skip_ka and message.get("type") == "ka"):
                    return message

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.recv()

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"type": "subscribe", "id": op_id, "payload": {"query": query, "variables": variables}})

    async def next_data(self, within: float = 5.0) -> dict[str, Any]:
        message = await self.recv(within)
        assert message["type"] in ("next", "data"), message
        return message

    async def closed_with(self, within: float = 5.0) -> int | None:
        """Read until the server closes; the close code."""
        try:
            async with asyncio.timeout(within):
                async for _ in self.ws:
                    pass
        except Exception:
            pass
        return self.ws.close_code


@asynccontextmanager
async def gql_ws(base_url: str, key: str | None = None, *, init: bool = True, protocol: str = "graphql-transport-ws",
                 headers: dict[str, str] | None = None, **kwargs: Any) -> AsyncIterator[GqlClient]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[protocol], additional_headers=headers, **kwargs) as ws:  # type: ignore[list-item]
        client = GqlClient(ws)
        if init:
            ack = await client.init({"apiKey": key} if key else {})
            assert ack["type"] == "connection_ack", ack
        yield client


# One enforce policy covering every path to and out of the pending set.
GOVERNANCE_RULES = [
    {"when": {"actionType": "send_email"}},  # waits for a human: approve or reject
    {"when": {"actionType": "deploy"}, "require": ["tests"], "approval": "auto"},  # evidence decides
    {"when": {"actionType": "wire"}, "require": ["cfo"], "expiresIn": 1},  # expires
    {"when": {"actionType": "refund"}, "deny": True},  # rejected at once: never pending
]


class Governance:
    """Drives actions through the REST API as a client does; every call must succeed."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.c = client

    async def enforce(self, rules: list[dict[str, Any]] | None = None) -> None:
        answer = await self.c.post("/policy", json={"mode": "enforce", "rules": rules or GOVERNANCE_RULES})
        assert answer.status_code == 201, answer.text

    async def propose(self, kind: str, status: str = "pending_approval") -> dict[str, Any]:
        answer = await self.c.post("/actions", json={"type": kind, "actor": {"kind": "agent"}, "params": {"n": 1}})
        assert answer.status_code == 201 and answer.json()["status"] == status, answer.text
        return dict(answer.json())

    async def decide(self, proposed: dict[str, Any], verb: str) -> None:
        answer = await self.c.post(f"/approvals/{proposed['approvalId']}/{verb}", json={})
        assert answer.status_code == 200, answer.text

    async def evidence(self, proposed: dict[str, Any], passed: bool) -> None:
        checks = {"checks": [{"name": "tests", "pass": passed}]}
        answer = await self.c.post(f"/actions/{proposed['actionId']}/evidence", json=checks)
        assert answer.is_success, answer.text


class Emitter:
    """Writes events through the real outbox (the relay publishes them): only for events no API
    produces yet (workflow events, until workflows land)."""

    def __init__(self, settings: Settings) -> None:
        self.services = Services(settings, build_bus(settings.redis_url), OutgoingClient(allow_private=False))

    async def emit(self, org_id: str, event_type: str, data: dict[str, Any]) -> int:
        async with atomic():
            event = await emit(self.services, org_id, event_type, data)
        return int(event.seq)

    async def close(self) -> None:
        await self.services.http.aclose()
        await self.services.bus.close()


async def publish_envelopes(redis: Any, org_id: str, seqs: range, data: dict[str, Any], kind: str = "action.approved"
                            ) -> None:
    """Publish envelopes on the events channel one message each (for volume tests; the relay sends
    a batch as one JSON array, and the hub takes both forms)."""
    from app.core.bus import wire_channel
    from resolvers.events.outbox import EVENTS_CHANNEL
    from tests.conftest import REDIS_URL

    channel = wire_channel(REDIS_URL, EVENTS_CHANNEL)

    async with redis.pipeline(transaction=False) as pipe:
        for seq in seqs:
            pipe.publish(channel, orjson.dumps({
                "id": f"evt_{seq}", "event": kind, "timestamp": "2026-11-22T20:00:00.000Z", "seq": seq,
                "organizationId": org_id, "data": {"actionId": f"act_{seq}", "status": "approved", **data}}))
        await pipe.execute()
