"""Mutations: createMcpServer, updateMcpServer, deleteMcpServer, admitMcpServerTools."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.mcp import catalogue, servers
from resolvers.mcp.servers import McpServerSpec
from schema.context import GraphQLContext
from schema.mcp.types import McpServer, McpServerInput, ReviewedTool

Ctx = Info[GraphQLContext, None]
McpServerId = Annotated[strawberry.ID, strawberry.argument(description="The MCP server's id (`mcp_...`).")]
_FIELDS = {"name": "name", "url": "url", "credential_id": "credential_id"}


def _spec(data: McpServerInput) -> McpServerSpec:
    given: dict[str, Any] = {ours: getattr(data, theirs) for theirs, ours in _FIELDS.items()
                             if getattr(data, theirs) is not strawberry.UNSET}
    return McpServerSpec(**given)


@strawberry.type
class McpMutations:
    @strawberry.mutation(description="Register an upstream MCP server (scope connectors:write).")
    async def create_mcp_server(
        self, info: Ctx, input: Annotated[McpServerInput, strawberry.argument(description="The new server.")]
    ) -> McpServer:
        return McpServer.from_row(await servers.create(info.context.ctx, _spec(input)))

    @strawberry.mutation(description="Change the name, URL and/or credential given; a new URL forgets admitted "
                                     "schemas (scope connectors:write).")
    async def update_mcp_server(
        self, info: Ctx, id: McpServerId,
        input: Annotated[McpServerInput, strawberry.argument(description="The fields to change.")],
    ) -> McpServer:
        return McpServer.from_row(await servers.update(info.context.ctx, str(id), _spec(input)))

    @strawberry.mutation(description="Delete an upstream MCP server (scope connectors:write).")
    async def delete_mcp_server(self, info: Ctx, id: McpServerId) -> McpServer:
        return McpServer.from_row(await servers.delete(info.context.ctx, str(id)))

    @strawberry.mutation(description="Admit the current schema of held-back tools (scope connectors:write).")
    async def admit_mcp_server_tools(
        self, info: Ctx, id: McpServerId,
        tools: Annotated[list[str], strawberry.argument(description="The tools whose current schema to admit.")],
        fingerprints: Annotated[list[ReviewedTool] | None, strawberry.argument(
            description="Per tool, the fingerprint its held-tools entry showed the reviewer: a tool whose schema "
                        "changed again since is refused (CONFLICT, nothing admitted).")] = None,
    ) -> McpServer:
        reviewed = [(r.name, r.fingerprint) for r in fingerprints or []]
        return McpServer.from_row(await catalogue.admit_tools(info.context.ctx, str(id), tools, reviewed))
