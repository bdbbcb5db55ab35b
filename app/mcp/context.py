"""The resolvers' Context of an MCP request: the caller the middleware authenticated, this app's services.

The SDK's inner Starlette app replaces the request's `app`, so the services come from the main app
through `ServicesOf` rather than from `request.app.state`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from app.context import client_address_of, context_for
from resolvers.context import Context, Services
from resolvers.errors import Unauthorized

ServicesOf = Callable[[], Services]


def mcp_context(request: Any, services_of: ServicesOf) -> Context:
    if not isinstance(request, Request):
        raise Unauthorized("an MCP call needs an HTTP request carrying an API key")
    state = request.scope.get("state", {})
    caller = state.get("caller")
    if caller is None:
        raise Unauthorized("missing, invalid or revoked API key")
    return context_for(caller, services_of(), state.get("request_id"), client_address_of(request))
