"""Baseline for figure 1: bare Starlette `POST /actions` inserting the action row with asyncpg.

Run: `python -m uvicorn bench.baselines.asyncpg_insert:app --port 8101 --no-access-log`.
This is the floor a governed proposal is compared to: parse, one INSERT, answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.baselines.common import approved_response, insert_action, open_pool


async def propose(request: Request) -> JSONResponse:
    """Parse the documented proposal body, insert it, answer as an unmatched (approved) action."""
    body = await request.json()
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return JSONResponse({"error": "VALIDATION_ERROR", "message": "type is required"}, 400)
    pool = request.app.state.pool
    action_id = await insert_action(pool, body["type"], body.get("actor"), body.get("target"), body.get("params"))
    return JSONResponse(approved_response(action_id))


async def health(request: Request) -> JSONResponse:
    """Readiness probe for the harness."""
    return JSONResponse({"ok": True})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Open the pool (and the table) before the first request; close it on shutdown."""
    app.state.pool = await open_pool()
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[Route("/actions", propose, methods=["POST"]), Route("/health", health)],
    lifespan=lifespan,
)
