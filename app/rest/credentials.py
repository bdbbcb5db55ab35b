"""REST: /api/v1/credentials (document 002). Reads are sanitized: never the data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.connectors import Credential
from resolvers.credentials import credentials
from resolvers.credentials.credentials import CredentialSpec

TAGS = ["credentials"]
CredentialType = Literal["oauth", "api_key", "token", "basic", "custom"]


class UpdateCredentialBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    type: CredentialType | None = None
    provider: str | None = Field(None, max_length=32)
    data: dict[str, Any] | None = Field(None, description="Secret fields; encrypted at rest, never returned")
    metadata: dict[str, Any] | None = None


class CreateCredentialBody(UpdateCredentialBody):
    name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    type: CredentialType  # type: ignore[assignment]
    provider: str = Field(min_length=1, max_length=32)  # type: ignore[assignment]
    data: dict[str, Any] = Field(description="Secret fields; encrypted at rest, never returned")  # type: ignore[assignment]


class CredentialOut(BaseModel):
    id: str
    name: str
    description: str | None
    type: str
    provider: str
    fields: list[str] = Field(description="Names of the data fields present (never their values)")
    fingerprint: str = Field(description="12 hex characters of the sealed data's SHA-256: changes when data does")
    keyId: str = Field(description="The encryption key the data is sealed under")
    metadata: dict[str, Any]
    createdAt: str
    updatedAt: str


def spec_of(body: UpdateCredentialBody) -> CredentialSpec:
    """Only the fields the client sent."""
    return CredentialSpec(**{name: getattr(body, name) for name in body.model_fields_set})


def serialise_credential(row: Credential) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "description": row.description, "type": row.type,
        "provider": row.provider, "fields": row.field_names, "fingerprint": row.fingerprint,
        "keyId": row.key_id, "metadata": row.metadata,
        "createdAt": isoformat_z(row.created_at), "updatedAt": isoformat_z(row.updated_at),
    }


@endpoint("POST", "/credentials", summary="Create a credential (data encrypted at rest)", tags=TAGS,
          body=CreateCredentialBody, scopes=("credentials:write",), response=CredentialOut, status=201)
async def create_credential(call: RestCall) -> dict[str, Any]:
    return serialise_credential(await credentials.create(call.ctx, spec_of(call.body)))


@endpoint("GET", "/credentials", summary="List credentials (sanitized)", tags=TAGS, query=ListQuery,
          scopes=("credentials:read",), response=list[CredentialOut])
async def list_credentials(call: RestCall) -> Any:
    page = await credentials.list_credentials(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_credential)


@endpoint("GET", "/credentials/{id}", summary="Get a credential (sanitized)", tags=TAGS, response=CredentialOut)
async def get_credential(call: RestCall) -> dict[str, Any]:
    return serialise_credential(await credentials.find(call.ctx, call.path["id"]))


@endpoint("PUT", "/credentials/{id}", summary="Replace a credential's name, description, metadata and/or data",
          tags=TAGS, body=UpdateCredentialBody, scopes=("credentials:write",), response=CredentialOut)
async def update_credential(call: RestCall) -> dict[str, Any]:
    return serialise_credential(await credentials.update(call.ctx, call.path["id"], spec_of(call.body)))


@endpoint("DELETE", "/credentials/{id}", summary="Delete a credential nothing uses (409 otherwise)",
          tags=TAGS, response=CredentialOut, errors=(409,))
async def delete_credential(call: RestCall) -> dict[str, Any]:
    return serialise_credential(await credentials.delete(call.ctx, call.path["id"]))
