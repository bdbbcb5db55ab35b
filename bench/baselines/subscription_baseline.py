"""Baseline for figure 5: a bare Strawberry `pendingApprovals` subscription fed from Redis pub/sub.

Run: `python -m uvicorn bench.baselines.subscription_baseline:app --port 8105 --no-access-log`.

The straightforward design the subscriptions issue warns about, kept as the yardstick: one Redis
subscription per process (a connection per subscriber exhausts redis-py's pool past 100), events put
on an unbounded queue per subscriber, and Strawberry executing the selection once per subscriber per
event. `POST /actions` stands in for a proposal: it publishes one pending-approval event carrying a new
`act_` id and answers like Gatehouse, so the fleet measures answer-to-receipt the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
CHANNEL = "bench:baseline:pending_approvals"


@strawberry.type
class Approval:
    id: str
    status: str


@strawberry.type
class Action:
    id: str
    type: str
    status: str
    target: str | None


@strawberry.type
class PendingApprovalEvent:
    event: str
    sequence: int
    approval: Approval
    action: Action

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> PendingApprovalEvent:
        return cls(
            event=data["event"],
            sequence=data["sequence"],
            approval=Approval(**data["approval"]),
            action=Action(**data["action"]),
        )


class Hub:
    """One Redis subscription for the process, copied to one queue per subscriber."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[PendingApprovalEvent]] = set()

    async def pump(self, client: aioredis.Redis) -> None:
        """Decode each published event once and hand it to every subscriber's queue."""
        pubsub = client.pubsub()
        await pubsub.subscribe(CHANNEL)
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            event = PendingApprovalEvent.from_wire(json.loads(message["data"]))
            for queue in self.queues:
                queue.put_nowait(event)

    async def events(self) -> AsyncGenerator[PendingApprovalEvent, None]:
        queue: asyncio.Queue[PendingApprovalEvent] = asyncio.Queue()
        self.queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self.queues.discard(queue)


hub = Hub()


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def pending_approvals(self) -> AsyncGenerator[PendingApprovalEvent, None]:
        """Every event, to every subscriber (the baseline has one organization)."""
        async for event in hub.events():
            yield event


schema = strawberry.Schema(query=Query, subscription=Subscription, extensions=[ParserCache, ValidationCache])
graphql_app = GraphQL(schema, graphql_ide=None, max_subscriptions_per_connection=10)
_sequence = itertools.count(1)


async def propose(request: Request) -> JSONResponse:
    """Publish one pending-approval event for a new action id and answer like a proposal."""
    body = await request.json()
    action_id = "act_" + secrets.token_urlsafe(16)
    event = {
        "event": "created",
        "sequence": next(_sequence),
        "approval": {"id": "apr_" + secrets.token_urlsafe(16), "status": "pending"},
        "action": {
            "id": action_id,
            "type": body.get("type", "?"),
            "status": "pending_approval",
            "target": body.get("target"),
        },
    }
    await request.app.state.redis.publish(CHANNEL, json.dumps(event))
    decision = {"status": "pending_approval", "checks": []}
    return JSONResponse({"actionId": action_id, "status": "pending_approval", "policyIds": [], "decision": decision})


async def health(request: Request) -> JSONResponse:
    """Readiness probe for the harness; also says how many subscribers are attached."""
    return JSONResponse({"ok": True, "subscribers": len(hub.queues)})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Start the one Redis subscription before serving; stop it on shutdown."""
    app.state.redis = aioredis.from_url(REDIS_URL)
    pump = asyncio.create_task(hub.pump(aioredis.from_url(REDIS_URL)))
    try:
        yield
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        await app.state.redis.aclose()


app = Starlette(
    routes=[
        Route("/actions", propose, methods=["POST"]),
        Route("/health", health),
        Route("/graphql", graphql_app),
        WebSocketRoute("/graphql", graphql_app),
    ],
    lifespan=lifespan,
)
