"""Both MCP servers as routes of the main app, and their session managers for its lifespan.

Stateless Streamable HTTP: every request stands alone, so any replica can answer any request and a
long wait holds no server-side session. The app's middleware has authenticated and rate-limited
each request before it arrives here; the SDK's bearer check (KeyVerifier) runs again inside.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.routing import BaseRoute, Route

from app.auth import Authenticator
from app.core.settings import Settings
from app.mcp.context import ServicesOf
from app.mcp.gateway import build_gateway_server
from app.mcp.native import build_native_server
from app.mcp.security import KeyVerifier, auth_settings, transport_security
from app.mcp.streaming import AnswerForm

NATIVE_PATH = "/mcp"
GATEWAY_PATH = "/mcp/gateways/{name}"
# The SDK logs every stateless request's end at INFO ("Terminating session: None"): noise per call.
QUIET_LOGGERS = ("mcp.server.streamable_http", "mcp.server.streamable_http_manager")


class McpDoor:
    """The native server at /mcp and the gateway at /mcp/gateways/{name}."""

    def __init__(self, settings: Settings, authenticator: Authenticator, services_of: ServicesOf) -> None:
        security = transport_security(settings)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        self.native = build_native_server(settings, authenticator, services_of)
        native_apps, self._native_managers = [], []
        for json_response in (False, True):  # the streaming form, then the plain JSON one (app/mcp/streaming.py)
            native_apps.append(self.native.streamable_http_app(
                streamable_http_path=NATIVE_PATH, stateless_http=True, transport_security=security,
                max_request_body_size=settings.max_body_bytes, json_response=json_response,
            ))
            self._native_managers.append(self.native.session_manager)
        self._native_app = AnswerForm(streaming=native_apps[0], plain=native_apps[1])
        self.gateway = build_gateway_server(services_of)
        self._gateway_app = self.gateway.streamable_http_app(
            streamable_http_path=GATEWAY_PATH, stateless_http=True, transport_security=security,
            json_response=True,  # a gateway call never waits: nothing to stream
            max_request_body_size=settings.max_body_bytes, auth=auth_settings(settings),
            token_verifier=KeyVerifier(authenticator),
        )

    def routes(self) -> list[BaseRoute]:
        return [Route(NATIVE_PATH, self._native_app), Route(GATEWAY_PATH, self._gateway_app)]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for manager in (*self._native_managers, self.gateway.session_manager):
                await stack.enter_async_context(manager.run())
            yield
