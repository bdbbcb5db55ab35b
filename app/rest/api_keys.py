"""REST: /api/v1/api-keys (scope admin). Parse, call resolvers.keys.api_keys, serialise."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.api_keys import ApiKey
from resolvers.keys import api_keys


class CreateApiKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1)
    rateLimit: int | None = Field(None, ge=1, le=api_keys.MAX_RATE_LIMIT)
    agentId: str | None = Field(None, min_length=1, max_length=64, description="Bind the key to this agent: it "
                                "proposes as that agent only and never governs (400 with admin, agents:write, "
                                "policies:write or approvals:write)")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    rateLimit: int | None
    agentId: str | None
    createdAt: str
    lastUsedAt: str | None
    revokedAt: str | None


class CreatedApiKeyOut(ApiKeyOut):
    key: str = Field(description="The secret: shown once, never again")


def serialise_key(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.display_prefix,
        "scopes": key.scopes,
        "rateLimit": key.rate_limit,
        "agentId": key.agent_id,
        "createdAt": isoformat_z(key.created_at),
        "lastUsedAt": isoformat_z(key.last_used_at),
        "revokedAt": isoformat_z(key.revoked_at),
    }


@endpoint("POST", "/api-keys", summary="Create an API key", tags=["api-keys"], body=CreateApiKeyBody, scopes=("admin",),
          response=CreatedApiKeyOut, status=201)
async def create_api_key(call: RestCall) -> dict[str, Any]:
    body: CreateApiKeyBody = call.body
    created = await api_keys.create(call.ctx, name=body.name, scopes=body.scopes, rate_limit=body.rateLimit,
                                    agent_id=body.agentId)
    return {**serialise_key(created.key), "key": created.secret}


@endpoint("GET", "/api-keys", summary="List API keys", tags=["api-keys"], query=ListQuery,
          scopes=("admin",), response=list[ApiKeyOut])
async def list_api_keys(call: RestCall) -> Any:
    page = await api_keys.list_keys(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_key)


@endpoint("GET", "/api-keys/{id}", summary="Get an API key", tags=["api-keys"], response=ApiKeyOut)
async def get_api_key(call: RestCall) -> dict[str, Any]:
    return serialise_key(await api_keys.get(call.ctx, call.path["id"]))


@endpoint("DELETE", "/api-keys/{id}", summary="Revoke an API key (409 when a policy rule needs it to reach its "
          "approvals)", tags=["api-keys"], response=ApiKeyOut, errors=(409,))
async def revoke_api_key(call: RestCall) -> dict[str, Any]:
    return serialise_key(await api_keys.revoke(call.ctx, call.path["id"]))
