"""REST: /api/v1/mcp-servers: the upstream MCP servers the gateway offers at /mcp/gateways/{name}."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.mcp import McpServer
from resolvers.mcp import catalogue, servers
from resolvers.mcp.servers import McpServerSpec

TAGS = ["mcp"]


def documented(**limits: int) -> dict[str, Any]:
    """Limits shown in the OpenAPI document and checked by the resolver, so that REST and GraphQL
    refuse the same input in the same words (pydantic's own checks word it otherwise)."""
    return {"json_schema_extra": limits}


class UpdateMcpServerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, description="Lowercase letters, digits, _ and -", **documented(
        minLength=1, maxLength=64))
    url: str | None = Field(None, description="The upstream's Streamable HTTP URL", **documented(
        minLength=1, maxLength=2048))
    credentialId: str | None = Field(None, description="An http or custom_api credential for its auth headers")


class CreateMcpServerBody(UpdateMcpServerBody):
    name: str = Field(description="Lowercase letters, digits, _ and -",  # type: ignore[assignment]
                      **documented(minLength=1, maxLength=64))
    url: str = Field(description="The upstream's Streamable HTTP URL",  # type: ignore[assignment]
                     **documented(minLength=1, maxLength=2048))


class AdmitToolsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tools: list[str] = Field(description="Tools whose current schema to admit", **documented(minItems=1,
                                                                                              maxItems=1000))
    fingerprints: dict[str, str] = Field(
        default_factory=dict, **documented(maxProperties=1000),
        description="Per tool, the fingerprint its held-tools entry showed the reviewer: a tool whose schema "
                    "changed again since is refused (409, nothing admitted)")


class McpServerOut(BaseModel):
    id: str
    name: str
    url: str
    credentialId: str | None
    gatewayPath: str
    admittedTools: list[str]
    createdAt: str
    updatedAt: str


class HeldToolOut(BaseModel):
    name: str
    fingerprint: str
    admittedFingerprint: str | None


def spec_of(body: UpdateMcpServerBody) -> McpServerSpec:
    names = {"name": "name", "url": "url", "credentialId": "credential_id"}
    return McpServerSpec(**{names[f]: getattr(body, f) for f in body.model_fields_set})


def serialise_server(row: McpServer) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "url": row.url, "credentialId": row.credential_id,
        "gatewayPath": f"/mcp/gateways/{row.name}", "admittedTools": sorted(row.tool_fingerprints),
        "createdAt": isoformat_z(row.created_at), "updatedAt": isoformat_z(row.updated_at),
    }


@endpoint("GET", "/mcp-servers", summary="List upstream MCP servers", tags=TAGS, query=ListQuery,
          scopes=("connectors:read",), response=list[McpServerOut])
async def list_mcp_servers(call: RestCall) -> Any:
    page = await servers.list_servers(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_server)


@endpoint("POST", "/mcp-servers", summary="Register an upstream MCP server (its URL through the outgoing guard)",
          tags=TAGS, body=CreateMcpServerBody,
          scopes=("connectors:write",), response=McpServerOut, status=201, errors=(409,))
async def create_mcp_server(call: RestCall) -> dict[str, Any]:
    return serialise_server(await servers.create(call.ctx, spec_of(call.body)))


@endpoint("GET", "/mcp-servers/{id}", summary="Get an upstream MCP server", tags=TAGS, response=McpServerOut)
async def get_mcp_server(call: RestCall) -> dict[str, Any]:
    return serialise_server(await servers.find(call.ctx, call.path["id"]))


@endpoint("PUT", "/mcp-servers/{id}", summary="Update an upstream MCP server (a new URL forgets admitted schemas)",
          tags=TAGS, body=UpdateMcpServerBody, scopes=("connectors:write",), response=McpServerOut, errors=(409,))
async def update_mcp_server(call: RestCall) -> dict[str, Any]:
    return serialise_server(await servers.update(call.ctx, call.path["id"], spec_of(call.body)))


@endpoint("DELETE", "/mcp-servers/{id}", summary="Delete an upstream MCP server", tags=TAGS, response=McpServerOut)
async def delete_mcp_server(call: RestCall) -> dict[str, Any]:
    return serialise_server(await servers.delete(call.ctx, call.path["id"]))


@endpoint("GET", "/mcp-servers/{id}/held-tools", summary="Tools held back because their schema changed "
          "(asks the upstream)", tags=TAGS, response=list[HeldToolOut], errors=(502,))
async def held_tools(call: RestCall) -> list[dict[str, Any]]:
    return await catalogue.held_tools(call.ctx, call.path["id"])


@endpoint("POST", "/mcp-servers/{id}/admit-tools", summary="Admit the current schema of held-back tools",
          tags=TAGS, body=AdmitToolsBody, scopes=("connectors:write",), response=McpServerOut, errors=(409, 502))
async def admit_tools(call: RestCall) -> dict[str, Any]:
    body: AdmitToolsBody = call.body
    return serialise_server(await catalogue.admit_tools(call.ctx, call.path["id"], body.tools,
                                                        body.fingerprints.items()))
