"""The gateway door: /mcp/gateways/{name} offers an upstream server's tools behind the policies.

A low-level SDK server (the tool list is the upstream's, known only per request): `tools/list` and
`tools/call` map to resolvers/mcp/gateway.py and nothing else. The idempotency key of a call is the
request's ``_meta["gatehouse/idempotency_key"]`` or the HTTP ``Idempotency-Key`` header.
"""

from __future__ import annotations

from typing import Any

import orjson
from mcp import types as mcp_types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import validate_mcp_param_headers
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request

from app.mcp.context import ServicesOf, mcp_context
from app.mcp.errors import by_caller, readable
from resolvers.context import Context
from resolvers.errors import DomainError
from resolvers.mcp import gateway
from resolvers.mcp.agent import answer

META_KEY = "gatehouse/idempotency_key"


def _request(ctx: ServerRequestContext[Any]) -> Request:
    request = ctx.request
    assert isinstance(request, Request)
    return request


class GatewayHandlers:
    """tools/list and tools/call of /mcp/gateways/{name}."""

    def __init__(self, services_of: ServicesOf) -> None:
        self._services_of = services_of

    def gatehouse(self, ctx: ServerRequestContext[Any]) -> tuple[Context, str]:
        request = _request(ctx)
        return mcp_context(request, self._services_of), str(request.path_params.get("name", ""))


def _text(value: Any) -> list[mcp_types.ContentBlock]:
    return [mcp_types.TextContent(type="text", text=value if isinstance(value, str) else orjson.dumps(value).decode())]


def _stated_key(params: mcp_types.CallToolRequestParams) -> Any:
    """`_meta["gatehouse/idempotency_key"]` as sent (None when absent): the resolvers check it as
    REST checks a body's idempotencyKey, and against the Idempotency-Key header."""
    raw: Any = params.meta
    meta = raw if isinstance(raw, dict) else raw.model_dump(by_alias=True) if raw is not None else {}
    return meta.get(META_KEY)


async def list_tools(handlers: GatewayHandlers, ctx: ServerRequestContext[Any]) -> mcp_types.ListToolsResult:
    gh, name = handlers.gatehouse(ctx)
    try:
        return mcp_types.ListToolsResult(tools=await gateway.list_tools(gh, name))
    except DomainError as err:  # no such server, a key without the scope: the caller's; an upstream that failed: ours
        raise MCPError(mcp_types.INVALID_PARAMS if by_caller(err) else mcp_types.INTERNAL_ERROR,
                       f"{err.code}: {err.message}") from None
    except Exception as exc:
        text = readable(exc)
        if text is None:
            raise
        raise MCPError(mcp_types.INTERNAL_ERROR, text) from None


def _header_check(ctx: ServerRequestContext[Any], arguments: dict[str, Any] | None) -> gateway.SchemaCheck | None:
    """On the 2026-07-28 revision, the `Mcp-Param-*` headers must agree with the arguments the tool's
    schema annotates (`x-mcp-header`): the SDK's own check, run with the schema the call is checked
    against. The SDK would run it before dispatch by listing the upstream's tools on every call
    (`no_schema_before_dispatch`), a round trip to the upstream that made a call 11-13 ms slower."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return None  # earlier revisions have no such headers
    headers = _request(ctx).headers

    def check(input_schema: dict[str, Any]) -> None:
        rejection = validate_mcp_param_headers(input_schema, arguments or {}, headers)
        if rejection is not None:
            raise MCPError(rejection.code, rejection.message, rejection.data)

    return check


def no_schema_before_dispatch(_tool: str) -> None:
    """The gateway's tools are the upstream's, per organization and server: `_header_check` does the
    SDK's pre-dispatch check once the call has looked its tool up."""
    return None


async def call_tool(handlers: GatewayHandlers, ctx: ServerRequestContext[Any],
                    params: mcp_types.CallToolRequestParams) -> mcp_types.CallToolResult:
    gh, name = handlers.gatehouse(ctx)
    try:
        got = await gateway.call_tool(gh, name, params.name, params.arguments,
                                      _request(ctx).headers.get("idempotency-key"),
                                      check=_header_check(ctx, params.arguments), stated_key=_stated_key(params))
    except Exception as exc:
        text = readable(exc)
        if text is None:
            raise
        return mcp_types.CallToolResult(content=_text(text), is_error=True)
    if got.outcome == "result" and got.result is not None:
        return mcp_types.CallToolResult.model_validate(got.result)
    notice = {**answer(gh, got.action), "message": got.message}
    if got.outcome == "pending":
        notice["message"] = ("A human must approve this call; Gatehouse will make it once approved. Read the "
                             "result with get_action, or call again with the same idempotency key.")
    return mcp_types.CallToolResult(content=_text(notice), is_error=got.outcome == "refused",
                                    _meta={"gatehouse/action": notice})


def build_gateway_server(services_of: ServicesOf) -> Server[Any]:
    handlers = GatewayHandlers(services_of)

    async def on_list_tools(ctx: ServerRequestContext[Any], _params: mcp_types.PaginatedRequestParams | None
                            ) -> mcp_types.ListToolsResult:
        return await list_tools(handlers, ctx)

    async def on_call_tool(ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
                           ) -> mcp_types.CallToolResult:
        return await call_tool(handlers, ctx, params)

    return Server("gatehouse-gateway", on_list_tools=on_list_tools, on_call_tool=on_call_tool,
                  get_tool_input_schema=no_schema_before_dispatch)
