"""Gatehouse as an MCP client of an upstream server, behind the outgoing-URL guard.

The SDK's Streamable HTTP client speaks through an ``httpx2`` client; `GuardedMcpTransport` applies
the same checks as app/core/http.py to each of its requests (scheme, credentials in the URL, and the
resolved addresses, the connection pinned to the checked address for plain http). Upstream
sampling and elicitation requests are refused: a gateway that lets the upstream ask the agent's
model or user would hand the upstream the very channel the approval gate exists to control.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

import httpx2
import jsonschema
from mcp import ClientSession
from mcp import types as mcp_types
from mcp.client.streamable_http import streamable_http_client

from app.core.http import DEFAULT_PORTS, USER_AGENT, UnsafeURL, check_url_syntax, resolve_and_check

REFUSED = "refused by Gatehouse: upstream servers may not ask the agent's client"

# What resolvers use of the SDK's client side, named here so that they import this module only.
Tool = mcp_types.Tool
UpstreamSession = ClientSession


class GuardedMcpTransport(httpx2.AsyncBaseTransport):
    """Checks each request's URL and resolved addresses before the inner transport sends it.

    One per process (and per `allow_private`), shared by every upstream session: its connection
    pool and TLS context are made once (a new client per call spent most of a forwarded call's
    time building its TLS context). Closing a client that uses it leaves it open.
    """

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._allow_private = allow_private

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        try:
            check_url_syntax(str(url), self._allow_private)
            host = unquote(url.raw_host.decode("ascii"))
            async with asyncio.timeout(10):
                addresses = await resolve_and_check(host, url.port or DEFAULT_PORTS[url.scheme], self._allow_private)
        except (UnsafeURL, OSError, TimeoutError) as exc:
            raise httpx2.ConnectError(f"upstream refused by the outgoing-URL guard: {exc}", request=request) from exc
        if url.scheme == "http":
            request.url = url.copy_with(host=addresses[0])
            request.headers.setdefault("Host", url.netloc.decode("ascii"))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Kept open for the next session (see the class docstring)."""


_transports: dict[bool, GuardedMcpTransport] = {}


def shared_transport(allow_private: bool) -> GuardedMcpTransport:
    if allow_private not in _transports:
        _transports[allow_private] = GuardedMcpTransport(allow_private)
    return _transports[allow_private]


async def _refuse_sampling(context: Any, params: mcp_types.CreateMessageRequestParams) -> mcp_types.ErrorData:
    return mcp_types.ErrorData(code=mcp_types.INVALID_REQUEST, message=REFUSED)


async def _refuse_elicitation(context: Any, params: mcp_types.ElicitRequestParams) -> mcp_types.ErrorData:
    return mcp_types.ErrorData(code=mcp_types.INVALID_REQUEST, message=REFUSED)


@asynccontextmanager
async def upstream_session(
    url: str, headers: dict[str, str], *, allow_private: bool, seconds: float = 30.0
) -> AsyncIterator[ClientSession]:
    """An initialised client session with the upstream (UnsafeURL before any I/O for a bad URL)."""
    check_url_syntax(url, allow_private)
    client = httpx2.AsyncClient(
        transport=shared_transport(allow_private), headers={"User-Agent": USER_AGENT, **headers},
        timeout=httpx2.Timeout(seconds), follow_redirects=False, trust_env=False,
    )
    async with (
        client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write, read_timeout_seconds=seconds, sampling_callback=_refuse_sampling,
                      elicitation_callback=_refuse_elicitation) as session,
    ):
        await session.initialize()
        yield session


async def list_all_tools(session: ClientSession, limit: int) -> list[mcp_types.Tool]:
    """Every tool the upstream lists, following its pages, at most `limit`."""
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    while len(tools) < limit:
        page = await session.list_tools(params=mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


async def call_upstream_tool(session: ClientSession, name: str, arguments: dict[str, Any],
                             output_schema: dict[str, Any] | None) -> mcp_types.CallToolResult:
    """tools/call, a structured answer checked against `output_schema` (RuntimeError if it breaks it).

    `ClientSession.call_tool` makes the same check, but first lists the upstream's tools whenever
    its session has not: every session here (one per forwarded call), so each call paid a second
    round trip to the upstream. The caller passes the schema of the listing it already holds."""
    request = mcp_types.CallToolRequest(params=mcp_types.CallToolRequestParams(name=name, arguments=arguments))
    result = await session.send_request(request, mcp_types.CallToolResult)
    if output_schema is None or result.is_error:
        return result
    if result.structured_content is None:
        raise RuntimeError(f"tool {name!r} has an output schema but returned no structured content")
    try:
        jsonschema.validate(result.structured_content, output_schema)
    except jsonschema.ValidationError as exc:
        raise RuntimeError(f"tool {name!r} returned structured content its output schema refuses: "
                           f"{exc.message}"[:500]) from None
    except jsonschema.SchemaError:
        raise RuntimeError(f"tool {name!r} has an invalid output schema") from None
    return result
