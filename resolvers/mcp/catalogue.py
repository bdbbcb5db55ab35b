"""An upstream's tools as the gateway offers them: fingerprinted, pinned, held back or admitted.

Each tool's schema (name, description, input and output schemas, annotations) is fingerprinted. The
first fingerprint seen is pinned on the server row; a tool whose fingerprint later differs is held
back, hidden and refused, until an operator admits its new schema (the "rug-pull" guard: a tool
that was harmless when a policy was written must not silently change what it does). A tool is
offered to an agent only when an enforce-mode rule matches its action type and no rule denies it
outright: no matching rule never means allow.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from app.core import mcp_client
from app.core.after_commit import atomic
from app.core.causes import first_leaf
from app.core.http import UnsafeURL
from app.core.mcp_client import Tool, UpstreamError, UpstreamSession, list_all_tools
from app.core.storable import NUL, NUL_REFUSED, storable_text
from models.mcp import McpServer
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, DomainError, Invalid
from resolvers.governance.cache import compiled_policies
from resolvers.governance.engine import ActionFacts, standing
from resolvers.mcp.identity import judged_actor
from resolvers.mcp.servers import auth_headers_of, find

MAX_TOOLS = 1000
LIST_TTL_SECONDS = 2.0
LISTINGS_KEPT = 1000
FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_listings: dict[tuple[str, str], tuple[float, list[Tool]]] = {}
T = TypeVar("T")


class UpstreamFailed(DomainError):
    """The upstream MCP server could not be reached or refused the session (never means allow)."""

    code = "CONNECTOR_FAILED"


def action_type(server: McpServer, tool: str) -> str:
    return f"mcp.{server.name}.{tool}"


def fingerprint(tool: Tool) -> str:
    shape = tool.model_dump(mode="json", by_alias=True, exclude_none=True,
                            include={"name", "description", "input_schema", "output_schema", "annotations"})
    return hashlib.sha256(orjson.dumps(shape, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(slots=True)
class Offer:
    """One upstream tool and what the gateway makes of it."""

    tool: Tool
    fingerprint: str
    held: bool  # its schema differs from the admitted one
    admitted: bool  # an enforce-mode rule matches its action type
    denied: bool  # a rule refuses every call of it

    @property
    def offered(self) -> bool:
        return self.admitted and not self.denied and not self.held


def held(server: McpServer, tool: Tool) -> bool:
    """Whether the tool's schema differs from the one pinned (admitted) for it."""
    pinned = server.tool_fingerprints.get(tool.name)
    return pinned is not None and pinned != fingerprint(tool)


async def on_upstream(ctx: Context, server: McpServer, work: Callable[[UpstreamSession], Awaitable[T]]) -> T:
    """`work` on a session with the server (app/core/mcp_client.on_upstream); an unsafe URL is
    UpstreamFailed before any I/O."""
    try:
        return await mcp_client.on_upstream(server.url, await auth_headers_of(ctx, server), work,
                                            known_as=f"{server.id} {server.url}",
                                            allow_private=ctx.settings.allow_private_targets,
                                            max_bytes=ctx.settings.mcp_max_response_bytes)
    except UnsafeURL as exc:
        raise UpstreamFailed(f"MCP server {server.name!r}: {exc}") from None


def _domain_error_in(exc: BaseException) -> DomainError | None:
    """Our own refusal raised inside the session, perhaps wrapped by the SDK's task groups."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if (found := _domain_error_in(inner)) is not None:
                return found
    return None


async def listed_tools(ctx: Context, server: McpServer, *, fresh: bool) -> list[Tool]:
    """The upstream's tools: asked again when `fresh` (tools/list, admitting) or when the last answer
    is older than LIST_TTL_SECONDS (a call reuses a listing that young, saving a round trip)."""
    known = None if fresh else _young_listing(server)
    if known is not None:
        return known
    try:
        return _remember(server, await on_upstream(ctx, server, upstream_tools))
    except Exception as exc:
        domain = _domain_error_in(exc)
        if domain is not None:
            raise domain from None
        raise UpstreamFailed(_listing_failed(server, first_leaf(exc))) from None


def _listing_failed(server: McpServer, cause: BaseException) -> str:
    """Why the listing failed: what the upstream answered when it answered an error (its own words,
    cut short), else only the kind of failure (a connection error's text can hold addresses)."""
    if isinstance(cause, UpstreamError):
        said = storable_text(cause.error.message)[:300]
        return f"MCP server {server.name!r} answered its tool listing with an error: {said}"
    return f"MCP server {server.name!r} cannot be reached: {type(cause).__name__}"


async def listed_tool(server: McpServer, session: UpstreamSession, tool: str, *, fresh: bool = False) -> Tool | None:
    """The tool as listed young enough to reuse (unless `fresh`), else as listed on `session` (the
    session a forwarded call is about to use: no second session); None when the upstream lists no
    such tool."""
    tools = None if fresh else _young_listing(server)
    if tools is None:
        tools = _remember(server, await upstream_tools(session))
    return next((t for t in tools if t.name == tool), None)


def _young_listing(server: McpServer) -> list[Tool] | None:
    known = _listings.get((server.id, server.url))
    return known[1] if known is not None and known[0] > time.monotonic() else None


def _remember(server: McpServer, tools: list[Tool]) -> list[Tool]:
    if len(_listings) >= LISTINGS_KEPT:
        _listings.clear()
    _listings[server.id, server.url] = (time.monotonic() + LIST_TTL_SECONDS, tools)
    return tools


async def upstream_tools(upstream: UpstreamSession) -> list[Tool]:
    """The upstream's tools that can be offered: a name with a NUL could be neither stored with its
    fingerprint nor called (an action type must not hold one), so such a tool is left out."""
    return [tool for tool in await list_all_tools(upstream.session, MAX_TOOLS) if NUL not in tool.name]


async def offers(ctx: Context, server: McpServer, tools: list[Tool], *, pin: bool = True) -> dict[str, Offer]:
    """Each tool judged: pins first-seen fingerprints (unless `pin` is false: the caller writes them),
    holds changed ones, asks the policies."""
    compiled = await compiled_policies(ctx.services, ctx.organization_id)
    actor = await judged_actor(ctx)
    pins, judged = dict(server.tool_fingerprints), {}
    for tool in tools:
        print_ = fingerprint(tool)
        pins.setdefault(tool.name, print_)
        facts = ActionFacts(action_type(server, tool.name), actor["kind"], actor["name"], actor.get("provider"),
                            server.name, {}, actor["agentId"], actor["verified"])
        admitted, denied = standing(compiled, facts)
        judged[tool.name] = Offer(tool, print_, pins[tool.name] != print_, admitted, denied)
    if pin and pins != server.tool_fingerprints:
        await _pin(server, pins)
    return judged


async def _pin(server: McpServer, pins: dict[str, str]) -> None:
    """Add first-seen fingerprints; a concurrent pin of the same tool keeps whichever came first."""
    async with atomic():
        fresh = await McpServer.select_for_update().get(id=server.id)
        merged = {**pins, **fresh.tool_fingerprints}
        fresh.tool_fingerprints = server.tool_fingerprints = merged
        await fresh.save(update_fields=["tool_fingerprints", "updated_at"])


async def held_tools(ctx: Context, server_id: str) -> list[dict[str, Any]]:
    """The server's tools whose schema changed since it was admitted (connects to the upstream)."""
    server = await find(ctx, server_id)
    judged = await _judge(ctx, server)
    return [{"name": o.tool.name, "fingerprint": o.fingerprint, "admittedFingerprint": server.tool_fingerprints.get(
        o.tool.name)} for o in judged.values() if o.held]


async def admit_tools(ctx: Context, server_id: str, names: list[str],
                      reviewed: Iterable[tuple[str, str]] = ()) -> McpServer:
    """Admit the current schemas of `names` (held-back tools become callable again). `reviewed`:
    (tool, fingerprint) pairs the operator read in held-tools; a tool whose schema changed again
    since is refused, so what is admitted is what was reviewed, not what the upstream shows now."""
    server = await find(ctx, server_id, "connectors:write")
    _check_names(names)
    expected = _checked_reviewed(names, reviewed)
    judged = await offers(ctx, server, await listed_tools(ctx, server, fresh=True), pin=False)
    unknown = sorted(set(names) - set(judged))
    if unknown:  # refused: nothing is pinned either
        raise Invalid(f"tools not offered by MCP server {server.name!r}: {', '.join(unknown)}"[:1000])
    changed = sorted(name for name, print_ in expected.items() if judged[name].fingerprint != print_)
    if changed:
        raise Conflict(f"tools whose schema changed since it was reviewed, nothing admitted: {', '.join(changed)}"
                       [:1000])
    admitted = {n: judged[n].fingerprint for n in sorted(names)}
    async with atomic():  # on the row locked: two admits at once each keep theirs
        fresh = await McpServer.select_for_update().get(id=server.id)
        first_seen = {name: offer.fingerprint for name, offer in judged.items()}
        fresh.tool_fingerprints = {**first_seen, **fresh.tool_fingerprints, **admitted}
        await fresh.save(update_fields=["tool_fingerprints", "updated_at"])
        await trail.record(ctx, "mcp_server.tools_admitted", server.id, {"after": {"tools": admitted}})
    return fresh


def _check_names(names: object) -> None:
    """The tools to admit, checked before the upstream is asked (both doors, one wording)."""
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise Invalid("tools must be a non-empty list of tool names")
    if len(names) > MAX_TOOLS:
        raise Invalid(f"tools: at most {MAX_TOOLS} names, not {len(names)}")
    if any(NUL in name for name in names):
        raise Invalid(NUL_REFUSED)


def _checked_reviewed(names: list[str], reviewed: Iterable[tuple[str, str]]) -> dict[str, str]:
    expected: dict[str, str] = {}
    for name, print_ in reviewed:
        if len(expected) >= MAX_TOOLS:
            raise Invalid(f"fingerprints: at most {MAX_TOOLS}")
        if name not in names:
            raise Invalid(f"fingerprint given for {name!r}, which is not among the tools to admit"[:1000])
        if name in expected:
            raise Invalid(f"two fingerprints given for {name!r}"[:1000])
        if not FINGERPRINT.fullmatch(print_):
            raise Invalid(f"fingerprint of {name!r} is not a SHA-256 in lowercase hex (as held-tools gives it)"[:1000])
        expected[name] = print_
    return expected


async def _judge(ctx: Context, server: McpServer) -> dict[str, Offer]:
    return await offers(ctx, server, await listed_tools(ctx, server, fresh=True))
