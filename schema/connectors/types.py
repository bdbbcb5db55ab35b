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


@strawberry.type(description="A credential as readers see it: field names and a fingerprint, never the data.")
class Credential:
    id: strawberry.ID
    name: str
    description: str | None
    type: str
    provider: str
    fields: list[str]
    fingerprint: str
    key_id: str
    metadata: JSON
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: CredentialRow) -> Credential:
        return cls(
            id=strawberry.ID(row.id), name=row.name, description=row.description, type=row.type,
            provider=row.provider, fields=list(row.field_names), fingerprint=row.fingerprint, key_id=row.key_id,
            metadata=dict(row.metadata),  # type: ignore[arg-type]
            created_at=row.created_at, updated_at=row.updated_at,
        )


@strawberry.type
class ConnectorAction:
    name: str
    description: str
    input_schema: JSON
    output_schema: JSON

    @classmethod
    def from_description(cls, described: dict[str, Any]) -> ConnectorAction:
        return cls(name=described["name"], description=described["description"],
                   input_schema=described["inputSchema"], output_schema=described["outputSchema"])


@strawberry.type
class ConnectorType:
    type: str
    name: str
    description: str
    credential_type: str
    credential_provider: str
    credential_required: bool
    required_fields: list[str]
    config_schema: JSON
    actions: list[ConnectorAction]

    @classmethod
    def from_description(cls, d: dict[str, Any]) -> ConnectorType:
        return cls(
            type=d["type"], name=d["name"], description=d["description"], credential_type=d["credentialType"],
            credential_provider=d["credentialProvider"], credential_required=d["credentialRequired"],
            required_fields=d["requiredFields"], config_schema=d["configSchema"],
            actions=[ConnectorAction.from_description(a) for a in d["actions"]],
        )


@strawberry.type
class Connector:
    id: strawberry.ID
    name: str
    type: str
    credential_id: strawberry.ID | None
    config: JSON
    created_at: datetime
    updated_at: datetime
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


@strawberry.type
class ConnectorCall:
    id: strawberry.ID
    connector_id: strawberry.ID
    action: str
    status: str
    duration_ms: int
    retryable: bool
    provider_status: int | None
    error: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: CallRow) -> ConnectorCall:
        return cls(
            id=strawberry.ID(row.id), connector_id=strawberry.ID(row.connector_id), action=row.action,
            status=row.status, duration_ms=row.duration_ms, retryable=row.retryable,
            provider_status=row.provider_status, error=row.error, created_at=row.created_at,
        )


@strawberry.type
class ConnectorRun:
    output: JSON
    duration_ms: int
    call_id: strawberry.ID


@strawberry.input
class CreateCredentialInput:
    name: str
    type: str
    provider: str
    data: JSON
    description: str | None = None
    metadata: JSON | None = None


@strawberry.input
class UpdateCredentialInput:
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    type: str | None = strawberry.UNSET
    provider: str | None = strawberry.UNSET
    data: JSON | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET


@strawberry.input
class CreateConnectorInput:
    name: str
    type: str
    credential_id: strawberry.ID | None = None
    config: JSON | None = None


@strawberry.input
class UpdateConnectorInput:
    name: str | None = strawberry.UNSET
    type: str | None = strawberry.UNSET
    credential_id: strawberry.ID | None = strawberry.UNSET
    config: JSON | None = strawberry.UNSET
