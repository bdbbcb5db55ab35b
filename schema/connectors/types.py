"""GraphQL types: credentials (sanitized), catalogue entries, connector instances, calls, runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from models.connectors import Connector as ConnectorRow
from models.connectors import ConnectorCall as CallRow
from models.connectors import Credential as CredentialRow
from resolvers.connectors.connectors import instance_actions
from schema.enums import ConnectorCallStatus, CredentialType
from schema.node import Node


@strawberry.type(description="A credential as readers see it: field names and a fingerprint, never the data.")
class Credential(Node):
    id: strawberry.ID = strawberry.field(description="The credential's id (`cred_...`).")
    name: str = strawberry.field(description="Its name.")
    description: str | None = strawberry.field(description="What it is for.")
    type: CredentialType = strawberry.field(description="The kind of secret it holds.")
    provider: str = strawberry.field(description="The provider it is for: `slack`, `stripe`, `smtp`, ...")
    fields: list[str] = strawberry.field(description="The names of the fields its data holds (never the values).")
    fingerprint: str = strawberry.field(description="A short fingerprint of its data, to tell versions apart.")
    key_id: str = strawberry.field(description="The id of the encryption key that seals its data.")
    metadata: JSON = strawberry.field(description="Free-form, non-secret information kept with it.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: CredentialRow) -> Credential:
        return cls(
            id=strawberry.ID(row.id), name=row.name, description=row.description, type=CredentialType(row.type),
            provider=row.provider, fields=list(row.field_names), fingerprint=row.fingerprint, key_id=row.key_id,
            metadata=dict(row.metadata),  # type: ignore[arg-type]
            created_at=row.created_at, updated_at=row.updated_at,
        )


@strawberry.type(description="One action a connector offers.")
class ConnectorAction:
    name: str = strawberry.field(description="Its name, as runConnectorAction and connector steps take it.")
    description: str = strawberry.field(description="What it does.")
    input_schema: JSON = strawberry.field(description="The JSON Schema of its input.")
    output_schema: JSON = strawberry.field(description="The JSON Schema of its output.")

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> ConnectorAction:
        return cls(name=described["name"], description=described["description"],
                   input_schema=described["inputSchema"], output_schema=described["outputSchema"])


@strawberry.type(description="A kind of connector Gatehouse can run, from the catalogue.")
class ConnectorType:
    type: str = strawberry.field(description="Its type, as a connector instance's `type` names it.")
    name: str = strawberry.field(description="Its display name.")
    description: str = strawberry.field(description="What it connects to.")
    credential_type: CredentialType = strawberry.field(description="The type of credential it uses.")
    credential_provider: str = strawberry.field(description="The provider its credential must be for.")
    credential_required: bool = strawberry.field(description="Whether an instance needs a credential.")
    required_fields: list[str] = strawberry.field(description="The fields its credential's data must hold.")
    config_schema: JSON = strawberry.field(description="The JSON Schema of an instance's config.")
    actions: list[ConnectorAction] = strawberry.field(description="The actions it offers.")

    @classmethod
    def from_description(cls, d: dict[str, Any]) -> ConnectorType:
        return cls(
            type=d["type"], name=d["name"], description=d["description"],
            credential_type=CredentialType(d["credentialType"]),
            credential_provider=d["credentialProvider"], credential_required=d["credentialRequired"],
            required_fields=d["requiredFields"], config_schema=d["configSchema"],
            actions=[ConnectorAction.from_description(a) for a in d["actions"]],
        )


@strawberry.type(description="A connector instance: a connector type with its credential and config.")
class Connector(Node):
    id: strawberry.ID = strawberry.field(description="The connector's id (`conn_...`).")
    name: str = strawberry.field(description="Its name.")
    type: str = strawberry.field(description="Its connector type (see `connectorCatalogue`).")
    credential_id: strawberry.ID | None = strawberry.field(description="The credential it uses, if any.")
    config: JSON = strawberry.field(description="Its config, as its type's `configSchema` describes it.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    row: strawberry.Private[ConnectorRow]

    @strawberry.field(description="The actions this instance offers, with their JSON Schemas.")
    def actions(self) -> list[ConnectorAction]:
        return [ConnectorAction.from_description(a) for a in instance_actions(self.row)]

    @classmethod
    def from_row(cls, row: ConnectorRow) -> Connector:
        return cls(
            id=strawberry.ID(row.id), name=row.name, type=row.type,
            credential_id=strawberry.ID(row.credential_id) if row.credential_id else None,
            config=dict(row.config),  # type: ignore[arg-type]
            created_at=row.created_at, updated_at=row.updated_at, row=row,
        )


@strawberry.type(description="One run of one connector action: what ran, when, how long, how it ended.")
class ConnectorCall(Node):
    id: strawberry.ID = strawberry.field(description="The call's id (`call_...`).")
    connector_id: strawberry.ID = strawberry.field(description="The connector's id.")
    action: str = strawberry.field(description="The action that ran.")
    status: ConnectorCallStatus = strawberry.field(description="How it ended.")
    duration_ms: int = strawberry.field(description="How long it took, in milliseconds.")
    retryable: bool = strawberry.field(description="When it failed: whether the same call may succeed later.")
    provider_status: int | None = strawberry.field(description="The provider's HTTP status, if it answered.")
    error: str | None = strawberry.field(description="The provider's error, if it failed.")
    key_id: strawberry.ID | None = strawberry.field(description="The API key that ran it directly (REST or "
                                                    "runConnectorAction); null for a workflow step's or a policy "
                                                    "notification's call.")
    created_at: datetime = strawberry.field(description="When it ran.")

    @classmethod
    def from_row(cls, row: CallRow) -> ConnectorCall:
        return cls(
            id=strawberry.ID(row.id), connector_id=strawberry.ID(row.connector_id), action=row.action,
            status=ConnectorCallStatus(row.status), duration_ms=row.duration_ms, retryable=row.retryable,
            provider_status=row.provider_status, error=row.error,
            key_id=strawberry.ID(row.key_id) if row.key_id else None, created_at=row.created_at,
        )


@strawberry.type(description="The answer to runConnectorAction.")
class ConnectorRun:
    output: JSON = strawberry.field(description="The action's output, as its `outputSchema` describes it.")
    duration_ms: int = strawberry.field(description="How long the call took, in milliseconds.")
    call_id: strawberry.ID = strawberry.field(description="The id of the call in the connector's call log.")


@strawberry.input(description="A new credential.")
class CreateCredentialInput:
    name: str = strawberry.field(description="Its name.")
    type: str = strawberry.field(description="A CredentialType value: `oauth`, `api_key`, `token`, `basic` or "
                                             "`custom`.")
    provider: str = strawberry.field(description="The provider it is for: `slack`, `stripe`, `smtp`, ...")
    data: JSON = strawberry.field(description="The secret fields: an object, encrypted and never returned.")
    description: str | None = strawberry.field(default=None, description="What it is for.")
    metadata: JSON | None = strawberry.field(default=None, description="Free-form, non-secret information.")


@strawberry.input(description="The fields of a credential to replace; those left out keep their value.")
class UpdateCredentialInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="A new description.")
    type: str | None = strawberry.field(default=strawberry.UNSET, description="Its CredentialType value; it cannot "
                                                                              "change.")
    provider: str | None = strawberry.field(default=strawberry.UNSET, description="Its provider; it cannot change.")
    data: JSON | None = strawberry.field(default=strawberry.UNSET, description="New secret fields, replacing all.")
    metadata: JSON | None = strawberry.field(default=strawberry.UNSET, description="New metadata.")


@strawberry.input(description="A new connector instance.")
class CreateConnectorInput:
    name: str = strawberry.field(description="Its name.")
    type: str = strawberry.field(description="Its connector type (see `connectorCatalogue`).")
    credential_id: strawberry.ID | None = strawberry.field(default=None, description="The credential it uses, of "
                                                                                     "its type's provider.")
    config: JSON | None = strawberry.field(default=None, description="Its config, as its type's `configSchema` "
                                                                     "describes it.")


@strawberry.input(description="The fields of a connector to change; those left out keep their value.")
class UpdateConnectorInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    type: str | None = strawberry.field(default=strawberry.UNSET, description="Its connector type; it cannot change.")
    credential_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET, description="Another "
                                                                                                "credential.")
    config: JSON | None = strawberry.field(default=strawberry.UNSET, description="A new config, replacing it.")
