"""The commonest MCP request answered in one step: a native tool call that does not wait, posted in
the 2026-07-28 revision's plain JSON form, as the SDK's own `Client` sends `propose_action`.

The SDK serves each such POST through its session manager, a per-request kernel, a middleware
chain, a tool manager and a pydantic model of the response, which cost `propose_action` about
240 us of server time on top of the proposal itself (bench figure 9: about 57% of its samples, in
no single place). A call this lane takes gets the same checks from the SDK's own functions (Host and
Origin, Accept, duplicated routing headers, the envelope ladder, the method's params surface, the
tool's argument model), the same tool body, and the SDK's own result shaping (`_serialize`: result
type, server-info stamp); it skips the machinery around them, and the server-side check of our own
answer against the tool's output schema (the SDK's client checks it; tests/mcp/test_native.py's
2026-07-28 sessions go through this lane).

It takes a call only when every check passes and nothing the SDK would add applies (no progress
token, no `requestState`, no middleware but the request-state boundary, no tool that declares
`Mcp-Param-*` headers, a key the SDK's own backend accepts (`KeyBackend`: from any of its three
headers), no integer past 64 bits, which orjson reads as a float where the SDK's json keeps it for
the resolvers to refuse). Anything else, including every refusal, goes to the SDK untouched, so
errors keep the SDK's exact form.
tests/mcp/test_direct.py compares both answers.
`Settings.mcp_direct_calls` turns the lane off.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from mcp.server._streamable_http_modern import _write
from mcp.server.connection import Connection
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.request_state import RequestStateBoundary
from mcp.server.runner import ServerRunner, modern_error_data
from mcp.server.streamable_http import check_accept_headers
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import InboundModernRoute, classify_inbound_request, find_duplicated_routing_header
from mcp.types import CallToolResult, JSONRPCError, TextContent
from mcp_types import methods
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from app.mcp.context import ServicesOf, mcp_context
from app.mcp.security import KeyBackend
from resolvers.context import Context
from resolvers.validation import loses_integers

log = logging.getLogger(__name__)

ToolBody = Callable[[Context, dict[str, Any]], Awaitable[dict[str, Any]]]
ENVELOPE_KEYS = frozenset({"jsonrpc", "id", "method", "params"})
PARAMS_KEYS = frozenset({"name", "arguments", "_meta"})
META_KEYS = frozenset({
    "io.modelcontextprotocol/protocolVersion",
    "io.modelcontextprotocol/clientCapabilities",
    "io.modelcontextprotocol/clientInfo",
})
JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class DirectTool:
    """A tool body over validated arguments answering its structured content; `takes` says which
    calls it answers at once (a call that may wait streams through the SDK instead)."""

    body: ToolBody
    takes: Callable[[dict[str, Any]], bool] = lambda arguments: True


@dataclass(frozen=True)
class Call:
    """A plain call this lane may take: its JSON-RPC id, its tool, its params as sent."""

    request_id: str | int
    name: str
    params: dict[str, Any]


def plain_call(message: Any, tools: Mapping[str, DirectTool]) -> Call | None:
    """A tools/call of one of `tools` carrying nothing but its name, arguments and the envelope."""
    if not isinstance(message, dict) or message.keys() - ENVELOPE_KEYS or message.get("jsonrpc") != "2.0":
        return None
    request_id, params = message.get("id"), message.get("params")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int) or message.get("method") != "tools/call":
        return None
    if not isinstance(params, dict) or params.keys() - PARAMS_KEYS or params.get("name") not in tools:
        return None
    meta, arguments = params.get("_meta"), params.get("arguments")
    if not isinstance(meta, dict) or meta.keys() - META_KEYS or not isinstance(arguments, dict | None):
        return None
    return Call(request_id, params["name"], params)


def structured(value: dict[str, Any]) -> CallToolResult:
    """A tool's answer as structured content with the same JSON as text: what the SDK makes of a
    returned model, built straight from the resolvers' dict, which spares every call two walks of a
    pydantic model."""
    return CallToolResult(content=[TextContent(type="text", text=orjson.dumps(value).decode())],
                          structured_content=value)


class DirectCalls:
    """Answers a plain native tool call itself, or declines so the SDK answers it."""

    def __init__(self, server: MCPServer, manager: StreamableHTTPSessionManager, tools: Mapping[str, DirectTool],
                 services_of: ServicesOf, max_body_bytes: int, bearer: KeyBackend,
                 required_scopes: list[str]) -> None:
        self._server, self._manager, self._tools, self._services_of = server, manager, tools, services_of
        self._bearer, self._required_scopes = bearer, required_scopes
        self._security = TransportSecurityMiddleware(manager.security_settings)
        self._max_body_bytes = max_body_bytes

    async def answer(self, scope: Scope, receive: Receive, send: Send, body: bytes, message: Any) -> bool:
        """True when this lane answered; False (nothing sent) when the SDK should."""
        call = plain_call(message, self._tools)
        if call is None or len(body) > self._max_body_bytes or not self._plain_server(call.name):
            return False
        if loses_integers(body):  # orjson read an integer past 64 bits as a float: the SDK's json keeps
            return False          # it, and the resolvers refuse it (a silent float was stored before)
        request = Request(scope, receive)
        if not await self._authenticated(request):
            return False  # the SDK's bearer guard answers its 401 or 403
        if await self._security.validate_request(request, is_post=True) is not None:
            return False
        if not check_accept_headers(request)[0] or find_duplicated_routing_header(request.headers.items()):
            return False
        route = classify_inbound_request(message, headers=dict(request.headers))
        if not isinstance(route, InboundModernRoute):
            return False
        arguments = self._validated(call, route.protocol_version)
        if arguments is None:
            return False
        try:  # an MCPError from the body, or a result the SDK's shaping refuses: a JSON-RPC error, as there
            result = await self._run(call.name, mcp_context(request, self._services_of), arguments)
            connection = Connection.from_envelope(route.protocol_version, route.client_info,
                                                  route.client_capabilities)
            wire = ServerRunner(self._manager.app, connection, None)._serialize(
                "tools/call", route.protocol_version, result)
        except Exception as exc:
            await _write(JSONRPCError(jsonrpc="2.0", id=call.request_id, error=modern_error_data(exc)),
                         scope, receive, send)
            return True
        content = orjson.dumps({"jsonrpc": "2.0", "id": call.request_id, "result": wire})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*JSON_HEADERS, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})
        return True

    async def _authenticated(self, request: Request) -> bool:
        """What the SDK's bearer backend and guard accept (the key from the header the app's middleware
        took it from), with the caller the app's middleware found."""
        if request.scope.get("state", {}).get("caller") is None:
            return False
        credentials = await self._bearer.authenticate(request)
        return credentials is not None and all(s in credentials[0].scopes for s in self._required_scopes)

    def _plain_server(self, name: str) -> bool:
        """Nothing the SDK's kernel would add to this call: only pass-through middleware, no header
        declarations on the tool (see NativeServer), a session manager in JSON-answer mode."""
        server = self._manager.app
        return (self._manager.json_response and all(isinstance(m, RequestStateBoundary) for m in server.middleware)
                and server.get_tool_input_schema is not None and server.get_tool_input_schema(name) is None)

    def _validated(self, call: Call, version: str) -> dict[str, Any] | None:
        """The call's arguments after the SDK's own checks, or None where any would refuse."""
        tool = self._server._tool_manager.get_tool(call.name)
        if tool is None or tool.resolved_params:  # resolvers run only in the SDK's Tool.run
            return None
        try:
            methods.validate_client_request("tools/call", version, call.params)
            arguments = tool.fn_metadata.validate_arguments(call.params.get("arguments") or {})
        except Exception:  # the SDK answers the refusal in its own words
            return None
        return arguments if self._tools[call.name].takes(arguments) else None

    async def _run(self, name: str, ctx: Context, arguments: dict[str, Any]) -> CallToolResult:
        """The tool body's answer, or its failure as the SDK's tool manager words it (an MCPError,
        which the SDK answers as a JSON-RPC error, is raised)."""
        try:
            value = await self._tools[name].body(ctx, arguments)
        except MCPError:
            raise
        except ToolError as exc:
            log.info("Tool %r failed: %r", name, str(exc))
            return _tool_error(f"Error executing tool {name}: {exc}")
        except Exception:
            log.exception("Tool %r raised an unexpected exception", name)
            return _tool_error(f"Error executing tool {name}")
        return structured(value)


def _tool_error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
