"""Both MCP servers as routes of the main app, and their session managers for its lifespan.

Stateless Streamable HTTP: every request stands alone, so any replica can answer any request and a
long wait holds no server-side session. The app's middleware has authenticated and rate-limited
each request before it arrives here; the SDK's bearer check (KeyVerifier) runs again inside, on the
key from whichever of its three headers the middleware took it (KeyBackend).

Each path is the SDK's own parts composed as its `streamable_http_app()` composes them (bearer
authentication, the auth context, the 401 guard, the session manager's ASGI app) without the
Starlette application the SDK wraps them in: that shell's router, error and exception middleware
repeat the main app's and cost a propose_action call about 5% of its server time (bench figure 9).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import RequireAuthMiddleware
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.auth.settings import AuthSettings
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from app.auth import Authenticator
from app.core.settings import Settings
from app.mcp.context import ServicesOf
from app.mcp.direct import DirectCalls
from app.mcp.gateway import build_gateway_server
from app.mcp.native import build_native_server
from app.mcp.security import KeyBackend, KeyVerifier, auth_settings, transport_security
from app.mcp.streaming import AnswerForm
from app.mcp.tracing import drop_idle_tracing

NATIVE_PATH = "/mcp"
GATEWAY_PATH = "/mcp/gateways/{name}"
# The SDK logs every stateless request's end at INFO ("Terminating session: None"): noise per call.
QUIET_LOGGERS = ("mcp.server.streamable_http", "mcp.server.streamable_http_manager")


def sdk_endpoint(manager: StreamableHTTPSessionManager, verifier: KeyVerifier, auth: AuthSettings) -> ASGIApp:
    """One MCP path: the SDK's bearer check (of the key in any of its headers), auth context and 401
    guard around its transport."""
    assert auth.resource_server_url is not None
    guarded = RequireAuthMiddleware(StreamableHTTPASGIApp(manager), auth.required_scopes or [],
                                    build_resource_metadata_url(auth.resource_server_url))
    return AuthenticationMiddleware(AuthContextMiddleware(guarded), backend=KeyBackend(verifier))


class McpDoor:
    """The native server at /mcp and the gateway at /mcp/gateways/{name}."""

    def __init__(self, settings: Settings, authenticator: Authenticator, services_of: ServicesOf) -> None:
        security, auth, verifier = transport_security(settings), auth_settings(settings), KeyVerifier(authenticator)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        self.native = build_native_server(verifier, auth, services_of)
        native_apps, self._native_managers = [], []
        for json_response in (False, True):  # the streaming form, then the plain JSON one (app/mcp/streaming.py)
            self.native.streamable_http_app(  # builds the session manager; its Starlette shell is not used
                streamable_http_path=NATIVE_PATH, stateless_http=True, transport_security=security,
                max_request_body_size=settings.max_body_bytes, json_response=json_response,
            )
            self._native_managers.append(self.native.session_manager)
            native_apps.append(sdk_endpoint(self.native.session_manager, verifier, auth))
        direct = DirectCalls(self.native, self._native_managers[1], self.native.direct_tools, services_of,
                             settings.max_body_bytes, KeyBackend(verifier), auth.required_scopes or []
                             ) if settings.mcp_direct_calls else None
        self._native_app = AnswerForm(streaming=native_apps[0], plain=native_apps[1], direct=direct)
        self.gateway = build_gateway_server(services_of)
        self.gateway.streamable_http_app(
            streamable_http_path=GATEWAY_PATH, stateless_http=True, transport_security=security,
            json_response=True,  # a gateway call never waits: nothing to stream
            max_request_body_size=settings.max_body_bytes,  # auth: sdk_endpoint below
        )
        self._gateway_app = AnswerForm(sdk_endpoint(self.gateway.session_manager, verifier, auth))
        for chain in (self.native.middleware, self.gateway.middleware):
            drop_idle_tracing(chain)

    def routes(self) -> list[BaseRoute]:
        return [Route(NATIVE_PATH, self._native_app), Route(GATEWAY_PATH, self._gateway_app)]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for manager in (*self._native_managers, self.gateway.session_manager):
                await stack.enter_async_context(manager.run())
            yield
