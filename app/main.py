"""create_app(settings) -> the Starlette application with both doors and the system routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

import app.rest  # noqa: F401  (registers the REST endpoints)
from app.auth import Authenticator
from app.console import console_routes
from app.console.routes import SECURITY_HEADERS as CONSOLE_SECURITY_HEADERS
from app.core.settings import Settings, load_settings
from app.errors import error_response
from app.graphql import GatehouseGraphQL
from app.logs import configure_logging
from app.mcp.door import McpDoor
from app.metrics import metrics_endpoint
from app.middleware import GatehouseMiddleware
from app.rest.openapi import openapi_endpoint
from app.rest.routing import routes as rest_routes
from app.router import IndexedRouter
from app.services import build_rate_limiter, open_services
from app.subscriptions.documents import Documents
from app.subscriptions.hub import Hub
from app.subscriptions.protocol import GraphQLWebSocket
from app.workers import run_workers
from models.db import database_ready
from resolvers.agents import caps
from schema import build_schema

_CODE_BY_STATUS = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 400: "BAD_REQUEST"}
SYSTEM_PATHS: dict[str, dict[str, Any]] = {
    "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {"200": {"description": "alive"}}}},
    "/readyz": {
        "get": {
            "summary": "Readiness: database and Redis reachable",
            "security": [],
            "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
        }
    },
    "/metrics": {
        "get": {"summary": "Prometheus metrics", "security": [], "responses": {"200": {"description": "metrics"}}}
    },
    "/api/v1/openapi": {
        "get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI"}}}
    },
    "/console": {
        "get": {"summary": "The approvals console", "security": [], "responses": {"200": {"description": "HTML"}}}
    },
    "/console/{path}": {
        "get": {
            "summary": "The console's files; its client-side routes (approve/{actionId}, ...) answer index.html",
            "security": [],
            "parameters": [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "a console file"}, "404": {"description": "no such file"}},
        }
    },
    "/mcp": {
        "post": {"summary": "The native MCP server (Streamable HTTP, JSON-RPC): propose_action, wait_for_decision, "
                            "get_action, list_actions, cancel_action, describe_policies, request_permission",
                 "responses": {"200": {"description": "JSON-RPC answer (JSON or an SSE stream)"}}},
    },
    "/mcp/gateways/{name}": {
        "post": {"summary": "The MCP gateway in front of the upstream MCP server `name` (Streamable HTTP): its "
                            "tools, each call decided by the policies",
                 "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                 "responses": {"200": {"description": "JSON-RPC answer (JSON or an SSE stream)"}}},
    },
    "/graphql": {
        "post": {"summary": "GraphQL queries and mutations (WebSocket upgrade for subscriptions)",
                 "responses": {"200": {"description": "GraphQL result"}}},
        "get": {"summary": "GraphQL over GET (queries only) and WebSocket upgrade",
                "responses": {"200": {"description": "GraphQL result"}}},
    },
}


def _version() -> str:
    try:
        return version("gatehouse")
    except PackageNotFoundError:
        return "0.0.0"


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services = request.app.state.services
    checks = {"database": await database_ready(), "redis": await services.bus.ping()}
    status = 200 if all(checks.values()) else 503
    return JSONResponse({"status": "ready" if status == 200 else "not_ready", "checks": checks}, status)


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, "BAD_REQUEST")
    return error_response(code, exc.detail if isinstance(exc.detail, str) else code.lower())


def _routes(settings: Settings, documents: Documents, mcp: McpDoor) -> list[BaseRoute]:
    graphql = GatehouseGraphQL(documents.schema, graphql_ide="graphiql" if settings.dev else None)
    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/api/v1/openapi", openapi_endpoint),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", GraphQLWebSocket(documents)),
        *mcp.routes(),
        *console_routes(),
        *rest_routes(),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI application; `settings` default to the environment."""
    settings = settings or load_settings()
    authenticator = Authenticator()
    documents = Documents(build_schema(settings), settings)
    hub = Hub(documents, settings.ws_send_queue_frames, settings.ws_auth_recheck_seconds)
    mcp = McpDoor(settings, authenticator, lambda: application.state.services)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            app.state.services = services
            app.state.limiter = build_rate_limiter(services)
            services.extras[caps.LIMITER] = app.state.limiter  # per-agent proposal caps count with it
            await authenticator.listen(services.bus)
            await hub.start(services.bus)
            stop = asyncio.Event()
            workers = asyncio.create_task(run_workers(services, stop)) if settings.run_workers_inprocess else None
            try:
                async with mcp.running():
                    yield
            finally:
                stop.set()
                if workers is not None:
                    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                        await asyncio.wait_for(workers, 10)
                await hub.stop()
                app.state.limiter.close()

    application: Starlette
    application = Starlette(
        routes=_routes(settings, documents, mcp),
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
        middleware=[
            Middleware(
                GatehouseMiddleware,
                authenticator=authenticator,
                limiter=lambda: application.state.limiter,
                default_rate_limit=settings.default_rate_limit,
                max_body_bytes=settings.max_body_bytes,
                console_headers=CONSOLE_SECURITY_HEADERS,
            )
        ],
    )
    application.router = IndexedRouter(application.router.routes, lifespan=lifespan)  # app/router.py: why
    application.state.settings = settings
    application.state.authenticator = authenticator
    application.state.hub = hub
    application.state.version = _version()
    application.state.system_paths = SYSTEM_PATHS
    return application


def app_factory() -> Starlette:
    """For `uvicorn --factory app.main:app_factory`."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)
