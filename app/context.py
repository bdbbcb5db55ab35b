"""build_context: one way to turn an authenticated connection into a resolvers.Context."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from app.auth import Caller
from app.core.ids import random_base62
from resolvers.context import Context, Services
from resolvers.errors import Unauthorized


def context_for(
    caller: Caller, services: Services, request_id: str | None = None, client_address: str | None = None
) -> Context:
    """A Context for a known caller (HTTP request, WebSocket connection or CLI)."""
    return Context(
        organization_id=caller.organization_id,
        plan=caller.plan,
        key_id=caller.key_id,
        scopes=caller.scopes,
        request_id=request_id or random_base62(20),
        services=services,
        agent_id=caller.agent_id,
        client_address=client_address,
    )


def client_address_of(conn: HTTPConnection) -> str | None:
    """The peer's address as uvicorn reports it (behind a trusted proxy, its forwarded client)."""
    return conn.client.host if conn.client is not None else None


def build_context(conn: HTTPConnection) -> Context:
    """The Context of a request the middleware has authenticated (HTTP or WebSocket)."""
    state = conn.scope.get("state", {})
    caller = state.get("caller")
    if caller is None:
        raise Unauthorized("missing, invalid or revoked API key")
    return context_for(caller, conn.app.state.services, state.get("request_id"), client_address_of(conn))
