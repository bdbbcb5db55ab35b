"""What an MCP POST's body is checked for, and which answer form it gets: an SSE stream only when
it may wait.

A call that waits for a human (`wait_for_decision`, `request_permission`, `propose_action` with
`wait_seconds`) streams, so progress notifications reach the client while it waits; every other
request is answered as plain JSON, which costs the SDK about a third less server time per call
(measured on propose_action). Both forms are valid Streamable HTTP answers to the same request.

The SDK reads bodies with Python's json, which takes `NaN`, `Infinity` and `-Infinity` as numbers
and lone surrogates as text: JSON has neither, and a policy would judge `amount: Infinity` while the
action's row stored null. Such a body is a JSON-RPC parse error here, as REST and GraphQL refuse it.
Both servers are stateless, so a GET (the stream of server-initiated messages) has nothing to carry:
405, as the transport allows, rather than an SSE stream held open with nothing in it.

The SDK's 2025 transport answers JSON that is not one request or notification (`{}`, a batch, an
envelope of the wrong types) with pydantic's validation text as invalid params, and takes a posted
response (202) that a stateless server, which never asks the client anything, has no use for. Such
a body is a JSON-RPC Invalid Request here, 400, as the SDK's 2026-07-28 transport answers it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pydantic_core
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.types import JSONRPCNotification, JSONRPCRequest, jsonrpc_message_adapter
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.mcp.direct import DirectCalls

NOT_JSON = {"jsonrpc": "2.0", "id": None, "error": {
    "code": -32700, "message": "Parse error: not JSON (NaN, Infinity or a lone surrogate are not allowed)"}}

NOT_A_REQUEST = {"jsonrpc": "2.0", "id": None, "error": {
    "code": -32600, "message": "Invalid Request: the body must be a single JSON-RPC request or notification object"}}

WAITING_TOOLS = frozenset({"wait_for_decision", "request_permission"})


def may_wait(body: bytes) -> bool:
    """Whether a JSON-RPC POST body calls a tool that may wait (unparseable: the streaming form)."""
    try:
        return _calls_a_waiting_tool(orjson.loads(body))
    except orjson.JSONDecodeError:
        return True


def _calls_a_waiting_tool(message: Any) -> bool:
    messages = message if isinstance(message, list) else [message]
    return any(_waits(m) for m in messages)


def lenient_only(body: bytes) -> bool:
    """Whether a body orjson refused is read all the same by Python's lenient json, the SDK's
    (NaN, Infinity, a lone surrogate in a string: nothing JSON allows, nothing a column can hold)."""
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # not JSON to either: the SDK answers its own parse error
        return False
    return True


def _waits(message: Any) -> bool:
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return False
    params = message.get("params")
    if not isinstance(params, dict):
        return False
    name, arguments = params.get("name"), params.get("arguments")
    if name in WAITING_TOOLS:
        return True
    return name == "propose_action" and isinstance(arguments, dict) and bool(arguments.get("wait_seconds"))


def handshake_era(scope: Scope) -> bool:
    """Whether the SDK's session manager gives this request to its 2025 transport (no protocol
    version header, or a revision of the initialize handshake), as it routes it."""
    version = Headers(scope=scope).get(MCP_PROTOCOL_VERSION_HEADER)
    return version is None or version in HANDSHAKE_PROTOCOL_VERSIONS


def not_a_request(body: bytes) -> bool:
    """Whether the 2025 transport, reading `body` as it does, finds no request or notification in it
    (its validation refuses it, or it is a response); unparseable: False, the SDK's parse error."""
    try:
        decoded = pydantic_core.from_json(body)
    except ValueError:
        return False
    try:
        message = jsonrpc_message_adapter.validate_python(decoded, by_name=False)
    except ValidationError:
        return True
    return not isinstance(message, JSONRPCRequest | JSONRPCNotification)


class AnswerForm:
    """Routes a POST to the streaming or the JSON app after reading its (bounded) body; given one
    app only (the gateway, which never waits), that app serves every POST."""

    def __init__(self, streaming: ASGIApp, plain: ASGIApp | None = None, direct: DirectCalls | None = None) -> None:
        self.streaming, self.plain, self.direct = streaming, plain or streaming, direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.streaming(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.streaming(scope, _replay([message]), send)
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            rpc = orjson.loads(body)
        except orjson.JSONDecodeError:
            if lenient_only(body):
                await JSONResponse(NOT_JSON, status_code=400)(scope, receive, send)
                return
            rpc, waits = None, True  # not JSON: the SDK answers its parse error
        else:
            if handshake_era(scope) and not_a_request(body):
                await JSONResponse(NOT_A_REQUEST, status_code=400)(scope, receive, send)
                return
            waits = _calls_a_waiting_tool(rpc)
        if not waits and self.direct is not None and await self.direct.answer(scope, receive, send, body, rpc):
            return
        app = self.streaming if waits else self.plain
        await app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
