"""REST: /api/v1/connectors (document 002): the catalogue, instances, running actions, call logs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import PUBLIC, RestCall, endpoint, json_response
from models.connectors import Connector, ConnectorCall
from resolvers.connectors import calls, connectors, direct
from resolvers.connectors.catalogue import catalogue
from resolvers.connectors.connectors import ConnectorSpec, instance_actions

TAGS = ["connectors"]


class ConnectorListQuery(ListQuery):
    available: bool = Field(False, description="true: the catalogue of connector types instead of instances")


class UpdateConnectorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    type: str | None = Field(None, max_length=32)
    credentialId: str | None = None
    config: dict[str, Any] | None = None


class CreateConnectorBody(UpdateConnectorBody):
    name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    type: str = Field(min_length=1, max_length=32)  # type: ignore[assignment]


class RunActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: dict[str, Any] = Field(default_factory=dict)
    idempotencyKey: str | None = Field(None, description="Sent to providers that take one (Stripe); "
                                                         "the Idempotency-Key header works too")


class ActionOut(BaseModel):
    name: str
    description: str
    inputSchema: dict[str, Any]
    outputSchema: dict[str, Any]


class CatalogueEntryOut(BaseModel):
    type: str
    name: str
    description: str
    credentialType: str
    credentialProvider: str
    credentialRequired: bool
    requiredFields: list[str]
    configSchema: dict[str, Any]
    actions: list[ActionOut]


class ConnectorOut(BaseModel):
    id: str
    name: str
    type: str
    credentialId: str | None
    config: dict[str, Any]
    createdAt: str
    updatedAt: str


class ConnectorDetailOut(ConnectorOut):
    actions: list[ActionOut]


class RunOut(BaseModel):
    output: dict[str, Any]
    durationMs: int
    callId: str


class CallOut(BaseModel):
    id: str
    connectorId: str
    action: str
    status: str
    durationMs: int
    retryable: bool
    providerStatus: int | None
    error: str | None
    keyId: str | None = Field(description="The API key that ran it directly; null for a workflow step's or a "
                                          "policy notification's call")
    createdAt: str


class CallQuery(ListQuery):
    status: str | None = None


def spec_of(body: UpdateConnectorBody) -> ConnectorSpec:
    names = {"name": "name", "type": "type", "credentialId": "credential_id", "config": "config"}
    return ConnectorSpec(**{names[field]: getattr(body, field) for field in body.model_fields_set})


def serialise_connector(row: Connector) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "type": row.type, "credentialId": row.credential_id, "config": row.config,
        "createdAt": isoformat_z(row.created_at), "updatedAt": isoformat_z(row.updated_at),
    }


def serialise_detail(row: Connector) -> dict[str, Any]:
    return {**serialise_connector(row), "actions": instance_actions(row)}


def serialise_call(row: ConnectorCall) -> dict[str, Any]:
    return {
        "id": row.id, "connectorId": row.connector_id, "action": row.action, "status": row.status,
        "durationMs": row.duration_ms, "retryable": row.retryable, "providerStatus": row.provider_status,
        "error": row.error, "keyId": row.key_id, "createdAt": isoformat_z(row.created_at),
    }


# PUBLIC: the catalogue (?available=true) needs no scope, as the resolver has it; listing instances
# needs connectors:read, checked by the resolver once the query says which was asked.
@endpoint("GET", "/connectors", summary="List connector instances, or the catalogue with ?available=true",
          tags=TAGS, query=ConnectorListQuery, scopes=PUBLIC, response=list[ConnectorOut] | list[CatalogueEntryOut])
async def list_connectors(call: RestCall) -> Any:
    if call.query.available:
        return json_response(catalogue(), 200)
    page = await connectors.list_connectors(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_connector)


@endpoint("POST", "/connectors", summary="Create a connector instance", tags=TAGS, body=CreateConnectorBody,
          scopes=("connectors:write",), response=ConnectorDetailOut, status=201)
async def create_connector(call: RestCall) -> dict[str, Any]:
    return serialise_detail(await connectors.create(call.ctx, spec_of(call.body)))


@endpoint("GET", "/connectors/{id}", summary="Get a connector instance with its actions and their schemas",
          tags=TAGS, response=ConnectorDetailOut)
async def get_connector(call: RestCall) -> dict[str, Any]:
    return serialise_detail(await connectors.find(call.ctx, call.path["id"]))


@endpoint("PUT", "/connectors/{id}", summary="Update a connector instance (409 when its config would drop an "
          "action a workflow's step or a policy's notify uses)", tags=TAGS, body=UpdateConnectorBody,
          scopes=("connectors:write",), response=ConnectorDetailOut, errors=(409,))
async def update_connector(call: RestCall) -> dict[str, Any]:
    return serialise_detail(await connectors.update(call.ctx, call.path["id"], spec_of(call.body)))


@endpoint("DELETE", "/connectors/{id}", summary="Delete a connector instance and its call log (409 while a "
          "workflow or a policy's notify uses it)", tags=TAGS, response=ConnectorOut, errors=(409,))
async def delete_connector(call: RestCall) -> dict[str, Any]:
    return serialise_connector(await connectors.delete(call.ctx, call.path["id"]))


@endpoint("POST", "/connectors/{id}/actions/{action}", summary="Run one action (502 CONNECTOR_FAILED when "
          "the provider fails); each call that reaches the provider appends a connector.action_run audit entry",
          tags=TAGS, body=RunActionBody,
          scopes=("connectors:write",), response=RunOut, errors=(409, 502))
async def run_action(call: RestCall) -> dict[str, Any]:
    body: RunActionBody = call.body
    key = body.idempotencyKey or call.request.headers.get("Idempotency-Key")
    result = await direct.run_direct(call.ctx, call.path["id"], call.path["action"], body.input, idempotency_key=key)
    return {"output": result.output, "durationMs": result.duration_ms, "callId": result.call_id}


@endpoint("GET", "/connectors/{id}/calls", summary="A connector's call log, newest first", tags=TAGS,
          query=CallQuery, scopes=("connectors:read",), response=list[CallOut])
async def list_calls(call: RestCall) -> Any:
    query: CallQuery = call.query
    page = await calls.list_calls(call.ctx, call.path["id"], status=query.status, limit=query.limit,
                                  cursor=query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_call)
