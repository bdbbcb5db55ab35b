"""Gatehouse as an MCP client of an upstream server, behind the outgoing-URL guard.

The SDK's Streamable HTTP client speaks through an ``httpx2`` client; `GuardedMcpTransport` applies
the same checks as app/core/http.py to each of its requests (scheme, credentials in the URL, and the
resolved addresses, the connection pinned to the checked address for plain http). Upstream
sampling and elicitation requests are refused: a gateway that lets the upstream ask the agent's
model or user would hand the upstream the very channel the approval gate exists to control.

Each use opens a session of its own. The first with an upstream lets the SDK's `Client` find the
revision it speaks (`server/discover`, else the initialize handshake); that answer is kept per
upstream for REVISION_KEPT_SECONDS, so later sessions with a 2026-07-28 upstream adopt it (the SDK's
`prior_discover`) and send nothing but their own request, where the handshake cost two more round
trips and a session to close. Any failure forgets it, so the next session asks again; and when the
upstream refused the remembered revision before it took anything (an initialize it no longer
answers, or a request it answers "invalid request" or "unsupported protocol version" without a
session), `on_upstream` asks again at once and does the work once more: nothing was called.

An upstream's answer is read up to `max_bytes` (a JSON body, or the events of one SSE stream, and
each event on its own): past that the request fails as unreadable instead of the gateway holding
whatever the upstream sends in memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx2
import jsonschema
from mcp import Client, ClientSession
from mcp import types as mcp_types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import mcp_param_headers, x_mcp_header_map
from mcp_types import INVALID_REQUEST, UNSUPPORTED_PROTOCOL_VERSION
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from app.core.causes import first_leaf
from app.core.http import DEFAULT_PORTS, USER_AGENT, UnsafeURL, check_url_syntax, resolve_and_check

REFUSED = "refused by Gatehouse: upstream servers may not ask the agent's client"

T = TypeVar("T")
MAX_TOOL_PAGES = 100  # an upstream's listing pages followed at most (one kept sending empty pages)
NOT_TAKEN = frozenset({INVALID_REQUEST, UNSUPPORTED_PROTOCOL_VERSION})  # refused before being read as a call
REVISION_KEPT_SECONDS = 60.0
REVISIONS_KEPT = 1000
HANDSHAKE = "legacy"  # the SDK's name for the initialize handshake (revisions before 2026-07-28)
# Per upstream (`known_as`): until when, the mode to connect with, and the DiscoverResult a modern one gave.
_revisions: dict[str, tuple[float, str, mcp_types.DiscoverResult | None]] = {}

# What resolvers use of the SDK's client side, named here so that they import this module only.
Tool = mcp_types.Tool
CallToolResult = mcp_types.CallToolResult
UpstreamError = MCPError  # an upstream's JSON-RPC error answer


class UpstreamFaultsAsWarnings(logging.Filter):
    """The SDK's client logs an upstream's unreadable answer as an error with a traceback. The call
    is recorded `failed` with the reason and its event, and nothing in Gatehouse went wrong: for the
    operator it is one warning line, the exception's message kept."""

    UPSTREAM_FAULTS = ("Error parsing JSON response", "Unexpected content type", "Error parsing SSE message")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING and str(record.msg).startswith(self.UPSTREAM_FAULTS):
            reason = f": {record.exc_info[1]}" if record.exc_info and record.exc_info[1] else ""
            record.msg, record.args = f"upstream MCP server: {record.getMessage()}{reason}", None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("mcp.client.streamable_http").addFilter(UpstreamFaultsAsWarnings())


class StaleRevision(Exception):
    """The upstream refused the revision it was last found to speak before it took any request."""


class AnswerTooLarge(httpx2.StreamError, httpx2.SSEError):
    """An upstream's answer went past the bytes the gateway reads of one. Both a StreamError and an
    SSEError, the two the SDK's transport turns into an error answer carrying this message (from a
    JSON body and from an SSE stream) instead of failing the session or losing the reason."""


class BoundedStream(httpx2.AsyncByteStream):
    """The response body, failing once more than `max_bytes` of it came."""

    def __init__(self, inner: httpx2.AsyncByteStream, max_bytes: int) -> None:
        self._inner, self._max_bytes = inner, max_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        taken = 0
        async for chunk in self._inner:
            taken += len(chunk)
            if taken > self._max_bytes:
                raise AnswerTooLarge(f"the upstream's answer is larger than {self._max_bytes} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(slots=True)
class UpstreamSession:
    """A session with an upstream and the HTTP client it speaks through (used for this session only)."""

    session: ClientSession
    http: httpx2.AsyncClient

    @property
    def modern(self) -> bool:
        return self.session.protocol_version in MODERN_PROTOCOL_VERSIONS


class GuardedMcpTransport(httpx2.AsyncBaseTransport):
    """Checks each request's URL and resolved addresses before the inner transport sends it.

    One per process (and per `allow_private`), shared by every upstream session: its connection
    pool and TLS context are made once (a new client per call spent most of a forwarded call's
    time building its TLS context). Closing a client that uses it leaves it open.
    """

    def __init__(self, allow_private: bool, max_bytes: int) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._allow_private, self._max_bytes = allow_private, max_bytes

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
        response = await self._inner.handle_async_request(request)
        response.stream = BoundedStream(response.stream, self._max_bytes)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        """Kept open for the next session (see the class docstring)."""


_transports: dict[tuple[bool, int], GuardedMcpTransport] = {}


def shared_transport(allow_private: bool, max_bytes: int) -> GuardedMcpTransport:
    key = (allow_private, max_bytes)
    if key not in _transports:
        _transports[key] = GuardedMcpTransport(allow_private, max_bytes)
    return _transports[key]


async def _refuse_sampling(context: Any, params: mcp_types.CreateMessageRequestParams) -> mcp_types.ErrorData:
    return mcp_types.ErrorData(code=mcp_types.INVALID_REQUEST, message=REFUSED)


async def _refuse_elicitation(context: Any, params: mcp_types.ElicitRequestParams) -> mcp_types.ErrorData:
    return mcp_types.ErrorData(code=mcp_types.INVALID_REQUEST, message=REFUSED)


@asynccontextmanager
async def upstream_session(
    url: str, headers: dict[str, str], *, allow_private: bool, max_bytes: int, seconds: float = 30.0,
    known_as: str | None = None,
) -> AsyncIterator[UpstreamSession]:
    """A session with the upstream, its revision negotiated or adopted (UnsafeURL before any I/O
    for a bad URL); the revision is remembered under `known_as` (default: the URL)."""
    check_url_syntax(url, allow_private)
    key = known_as or url
    known = _known_revision(key)
    mode, prior = (known[1], known[2]) if known is not None else ("auto", None)
    http = httpx2.AsyncClient(
        transport=shared_transport(allow_private, max_bytes), headers={"User-Agent": USER_AGENT, **headers},
        timeout=httpx2.Timeout(seconds), follow_redirects=False, trust_env=False,
    )
    client = Client(streamable_http_client(url, http_client=http, max_sse_event_size=max_bytes), mode=mode,
                    prior_discover=prior, read_timeout_seconds=seconds, sampling_callback=_refuse_sampling,
                    elicitation_callback=_refuse_elicitation, cache=None)
    opened = False
    try:
        async with http, client:
            opened = True
            if known is None:
                _remember_revision(key, client.session)
            yield UpstreamSession(client.session, http)
    except Exception as exc:
        _revisions.pop(key, None)  # an upstream that changed its revision is asked again next time
        if known is not None and (not opened or _not_taken(exc)):
            raise StaleRevision(f"the upstream refused the revision it spoke before: {first_leaf(exc)}") from exc
        raise


def _not_taken(exc: BaseException) -> bool:
    leaf = first_leaf(exc)
    return isinstance(leaf, MCPError) and leaf.error.code in NOT_TAKEN


async def on_upstream(url: str, headers: dict[str, str], work: Callable[[UpstreamSession], Awaitable[T]], *,
                      allow_private: bool, max_bytes: int, known_as: str | None = None) -> T:
    """`work` on a session with the upstream; again on a new session that asks the upstream's
    revision anew when the remembered one was refused before anything was taken."""
    try:
        async with upstream_session(url, headers, allow_private=allow_private, max_bytes=max_bytes,
                                    known_as=known_as) as session:
            return await work(session)
    except StaleRevision:
        async with upstream_session(url, headers, allow_private=allow_private, max_bytes=max_bytes,
                                    known_as=known_as) as session:
            return await work(session)


def _known_revision(key: str) -> tuple[float, str, mcp_types.DiscoverResult | None] | None:
    known = _revisions.get(key)
    return known if known is not None and known[0] > time.monotonic() else None


def _remember_revision(key: str, session: ClientSession) -> None:
    version, discovered = session.protocol_version, session.discover_result
    if len(_revisions) >= REVISIONS_KEPT:
        _revisions.clear()
    if version in MODERN_PROTOCOL_VERSIONS and discovered is not None:
        _revisions[key] = (time.monotonic() + REVISION_KEPT_SECONDS, version, discovered)
    else:
        _revisions[key] = (time.monotonic() + REVISION_KEPT_SECONDS, HANDSHAKE, None)


async def list_all_tools(session: ClientSession, limit: int) -> list[mcp_types.Tool]:
    """Every tool the upstream lists, following its pages: at most `limit` tools from at most
    MAX_TOOL_PAGES pages (an upstream's cursor must not keep the gateway listing for ever)."""
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        page = await session.list_tools(params=mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor or len(tools) >= limit:
            break
    return tools[:limit]


async def call_upstream_tool(upstream: UpstreamSession, name: str, arguments: dict[str, Any],
                             listed: Tool | None) -> mcp_types.CallToolResult:
    """tools/call, a structured answer checked against the output schema the tool was `listed`
    with (RuntimeError if it breaks it); on 2026-07-28 with the `Mcp-Param-*` headers its input
    schema asks for.

    `ClientSession.call_tool` does both from a listing of its own session: every session here (one
    per forwarded call) would list the upstream's tools again, a second round trip per call. The
    caller passes the tool from the listing it already holds."""
    if upstream.modern and listed is not None:  # this session's client sends nothing after this call
        upstream.http.headers.update(mcp_param_headers(x_mcp_header_map(listed.input_schema), arguments))
    request = mcp_types.CallToolRequest(params=mcp_types.CallToolRequestParams(name=name, arguments=arguments))
    result = await upstream.session.send_request(request, mcp_types.CallToolResult)
    output_schema = listed.output_schema if listed is not None else None
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
