"""Queries: mcpServers, mcpServer(id), mcpServerHeldTools(id)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.mcp import catalogue, servers
from schema.context import GraphQLContext
from schema.mcp.types import HeldTool, McpServer
from schema.pagination import After, Connection, First

Ctx = Info[GraphQLContext, None]
McpServerId = Annotated[strawberry.ID, strawberry.argument(description="The MCP server's id (`mcp_...`).")]


@strawberry.type
class McpQueries:
    @strawberry.field(description="The organization's upstream MCP servers, newest first (scope connectors:read).")
    async def mcp_servers(self, info: Ctx, first: First = 50, after: After = None) -> Connection[McpServer]:
        page = await servers.list_servers(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, McpServer.from_row)

    @strawberry.field(description="One upstream MCP server (scope connectors:read).")
    async def mcp_server(self, info: Ctx, id: McpServerId) -> McpServer:
        return McpServer.from_row(await servers.find(info.context.ctx, str(id)))

    @strawberry.field(description="Its tools held back because their schema changed (asks the upstream; scope "
                                  "connectors:read).")
    async def mcp_server_held_tools(self, info: Ctx, id: McpServerId) -> list[HeldTool]:
        return [HeldTool.from_dict(h) for h in await catalogue.held_tools(info.context.ctx, str(id))]
