"""Baseline for figure 2: a bare Strawberry mutation `proposeAction(input)` doing the same insert.

Run: `python -m uvicorn bench.baselines.strawberry_mutation:app --port 8102 --no-access-log`.
Parser and validation caches are on (passed as classes, as Strawberry now asks: their LRU caches
live at module level, so a fresh extension per request still hits them). Without them the same
mutation runs about 4x slower here, and a baseline must be the stack at its best.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.scalars import JSON
from strawberry.types import Info

from bench.baselines.common import insert_action, open_pool

_pool: asyncpg.Pool | None = None


@strawberry.input
class ActorInput:
    kind: str
    name: str
    provider: str | None = None


@strawberry.input
class ProposeActionInput:
    type: str
    actor: ActorInput
    target: str | None = None
    params: JSON | None = None


@strawberry.type
class Check:
    name: str
    status: str
    note: str | None = None


@strawberry.type
class Decision:
    status: str
    checks: list[Check]


@strawberry.type
class ProposeActionPayload:
    action_id: str
    status: str
    policy_ids: list[str]
    decision: Decision


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def propose_action(self, info: Info, input: ProposeActionInput) -> ProposeActionPayload:
        """Insert the row exactly as the REST baseline does and answer as an approved action."""
        assert _pool is not None, "lifespan did not run"
        actor: dict[str, Any] = {"kind": input.actor.kind, "name": input.actor.name}
        if input.actor.provider is not None:
            actor["provider"] = input.actor.provider
        action_id = await insert_action(_pool, input.type, actor, input.target, input.params)
        return ProposeActionPayload(
            action_id=action_id,
            status="approved",
            policy_ids=[],
            decision=Decision(status="approved", checks=[]),
        )


schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=[ParserCache, ValidationCache])


async def health(request: Request) -> JSONResponse:
    """Readiness probe for the harness."""
    return JSONResponse({"ok": True})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Open the shared pool before the first request; close it on shutdown."""
    global _pool
    _pool = await open_pool()
    try:
        yield
    finally:
        await _pool.close()


app = Starlette(
    routes=[Route("/graphql", GraphQL(schema, graphql_ide=None)), Route("/health", health)],
    lifespan=lifespan,
)

PROPOSE_MUTATION = """
mutation Propose($input: ProposeActionInput!) {
  proposeAction(input: $input) { actionId status policyIds decision { status checks { name status note } } }
}
"""
