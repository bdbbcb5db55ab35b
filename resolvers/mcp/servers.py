"""Upstream MCP servers: register, list, read, change, delete, and admit changed tool schemas.

A server is a name (used in action types ``mcp.<name>.<tool>`` and in the gateway's path), a
Streamable HTTP URL checked by the outgoing-URL guard, and optionally a credential of the same
organization whose data becomes the upstream's auth headers (provider ``http``: Bearer, Basic or an
API-key header; ``custom_api``: its headers). Access uses the connector scopes: an upstream MCP
server is one more way of calling a third-party system. Changes emit ``mcp_server.*`` events.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx
from tortoise.exceptions import IntegrityError

from app.core.after_commit import atomic
from app.core.http import DEFAULT_PORTS, UnsafeURL, check_url_syntax, resolve_and_check
from app.core.ids import new_id
from models.connectors import Credential
from models.mcp import McpServer
from resolvers.access import require
from resolvers.audit import trail
from resolvers.connectors.providers.http import auth_headers
from resolvers.context import Context
from resolvers.credentials.credentials import open_data
from resolvers.errors import Conflict, Invalid, NotFound
from resolvers.events.outbox import emit
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate

UNSET: Any = object()
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # fullmatch: `$` would take a name ending in a newline
CREDENTIAL_PROVIDERS = ("http", "custom_api")
MAX_URL = 2048


@dataclass(slots=True)
class McpServerSpec:
    """What a client may set; for an update, fields left UNSET stay as they are."""

    name: Any = UNSET
    url: Any = UNSET
    credential_id: Any = UNSET


def summary(server: McpServer) -> dict[str, Any]:
    return {"mcpServerId": server.id, "name": server.name, "url": server.url, "credentialId": server.credential_id}


def _checked_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise Invalid("name must be 1 to 64 characters: lowercase letters, digits, '_' or '-', starting with a "
                      "letter or digit")
    return name


async def checked_url(ctx: Context, url: Any) -> str:
    """The URL once the outgoing guard accepts it (syntax, then every resolved address)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise Invalid(f"url must be an http(s) URL of at most {MAX_URL} characters")
    allow = ctx.settings.allow_private_targets
    try:
        check_url_syntax(url, allow)
        parsed = httpx.URL(url)
        async with asyncio.timeout(5):
            await resolve_and_check(parsed.host, parsed.port or DEFAULT_PORTS[parsed.scheme], allow)
    except UnsafeURL as exc:
        raise Invalid(f"url: {exc}") from None
    except (OSError, TimeoutError):
        raise Invalid("url: its host cannot be resolved") from None
    return url


async def _checked_credential(ctx: Context, credential_id: Any) -> str | None:
    if credential_id is None:
        return None
    try:
        credential = await owned(Credential, ctx, str(credential_id), "credential")
    except NotFound:
        raise Invalid(f"credentialId: credential {credential_id} not found") from None
    if credential.provider not in CREDENTIAL_PROVIDERS:
        raise Invalid(f"credentialId: an MCP server needs an 'http' or 'custom_api' credential, not "
                      f"{credential.provider!r}")
    return credential.id


async def create(ctx: Context, spec: McpServerSpec) -> McpServer:
    require(ctx, "connectors:write")
    if spec.url is UNSET:
        raise Invalid("url is required")
    server = McpServer(
        id=new_id("mcp"), organization_id=ctx.organization_id, name=_checked_name(spec.name),
        url=await checked_url(ctx, spec.url),
        credential_id=await _checked_credential(ctx, None if spec.credential_id is UNSET else spec.credential_id),
    )
    if await McpServer.exists(organization_id=ctx.organization_id, name=server.name):
        raise _taken(server.name)
    try:
        async with atomic():
            await server.save()
            await emit(ctx.services, ctx.organization_id, "mcp_server.created", summary(server))
            await trail.record(ctx, "mcp_server.created", server.id, trail.created(_audited(server)))
    except IntegrityError:  # another request took the name since the check
        raise _taken(server.name) from None
    return server


def _taken(name: str) -> Conflict:
    return Conflict(f"an MCP server named {name!r} already exists")


async def list_servers(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[McpServer]:
    require(ctx, "connectors:read")
    return await paginate(McpServer.filter(organization_id=ctx.organization_id), limit, cursor)


async def find(ctx: Context, server_id: str, scope: str = "connectors:read") -> McpServer:
    require(ctx, scope)
    return await owned(McpServer, ctx, server_id, "MCP server")


async def by_name(ctx: Context, name: str) -> McpServer:
    """The caller's server of that name (the gateway's path); NotFound for anyone else's."""
    found = NAME.fullmatch(name) is not None  # a longer or odd path names no server (it was cut to 64)
    server = await McpServer.get_or_none(organization_id=ctx.organization_id, name=name) if found else None
    if server is None:
        raise NotFound(f"MCP server {name!r} not found")
    return server


async def update(ctx: Context, server_id: str, spec: McpServerSpec) -> McpServer:
    server = await find(ctx, server_id, "connectors:write")
    before = _audited(server)
    changed: list[str] = []
    if spec.name is not UNSET and spec.name != server.name:
        server.name = _checked_name(spec.name)
        if await McpServer.exists(organization_id=ctx.organization_id, name=server.name):
            raise _taken(server.name)
        changed.append("name")
    if spec.url is not UNSET and spec.url != server.url:  # the same URL again (a whole object PUT back) keeps the pins
        server.url = await checked_url(ctx, spec.url)
        server.tool_fingerprints = {}  # another server: its tools are seen afresh
        changed += ["url", "tool_fingerprints"]
    if spec.credential_id is not UNSET and spec.credential_id != server.credential_id:
        server.credential_id = await _checked_credential(ctx, spec.credential_id)
        changed.append("credential_id")
    if not changed:  # nothing to write, emit or audit
        return server
    try:
        async with atomic():
            await server.save(update_fields=[*changed, "updated_at"])
            await emit(ctx.services, ctx.organization_id, "mcp_server.updated",
                       {**summary(server), "changed": [_WIRE.get(c, c) for c in changed]})
            await trail.record(ctx, "mcp_server.updated", server.id, trail.diff(before, _audited(server)))
    except IntegrityError:  # another request took the name since the check
        raise _taken(server.name) from None
    return server


_WIRE = {"credential_id": "credentialId", "tool_fingerprints": "toolFingerprints"}


async def delete(ctx: Context, server_id: str) -> McpServer:
    server = await find(ctx, server_id, "connectors:write")
    async with atomic():
        await server.delete()
        await emit(ctx.services, ctx.organization_id, "mcp_server.deleted", summary(server))
        await trail.record(ctx, "mcp_server.deleted", server.id, trail.deleted(_audited(server)))
    return server


async def auth_headers_of(ctx: Context, server: McpServer) -> dict[str, str]:
    """The upstream's auth headers from the server's credential (none without one)."""
    if server.credential_id is None:
        return {}
    credential = await Credential.get_or_none(id=server.credential_id, organization_id=server.organization_id)
    if credential is None:
        raise Conflict(f"the credential of MCP server {server.name!r} no longer exists")
    data = open_data(ctx, credential)
    if credential.provider == "custom_api":
        return {str(k): str(v) for k, v in (data.get("headers") or {}).items()}
    return auth_headers(data)


def _audited(server: McpServer) -> dict[str, Any]:
    """What the audit trail compares (the tools seen are not a change an organization makes)."""
    return {"name": server.name, "url": server.url, "credentialId": server.credential_id}
