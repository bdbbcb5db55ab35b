"""Mutations: credentials and connector instances (create, update, delete) and runConnectorAction."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.connectors import connectors, direct
from resolvers.connectors.connectors import ConnectorSpec
from resolvers.credentials import credentials
from resolvers.credentials.credentials import CredentialSpec
from schema.connectors.types import (
    Connector,
    ConnectorRun,
    CreateConnectorInput,
    CreateCredentialInput,
    Credential,
    UpdateConnectorInput,
    UpdateCredentialInput,
)
from schema.context import GraphQLContext

Ctx = Info[GraphQLContext, None]
CredentialId = Annotated[strawberry.ID, strawberry.argument(description="The credential's id (`cred_...`).")]
ConnectorId = Annotated[strawberry.ID, strawberry.argument(description="The connector's id (`conn_...`).")]


def _given(data: object, names: dict[str, str]) -> dict[str, Any]:
    """The input's fields the client gave, under the resolver's names."""
    return {ours: getattr(data, theirs) for theirs, ours in names.items()
            if getattr(data, theirs) is not strawberry.UNSET}


_CREDENTIAL = {n: n for n in ("name", "description", "type", "provider", "data", "metadata")}
_CONNECTOR = {"name": "name", "type": "type", "credential_id": "credential_id", "config": "config"}


@strawberry.type
class ConnectorMutations:
    @strawberry.mutation(description="Create a credential; its data is encrypted and never returned "
                         "(scope credentials:write).")
    async def create_credential(
        self, info: Ctx, input: Annotated[CreateCredentialInput, strawberry.argument(description="The new credential.")]
    ) -> Credential:
        spec = CredentialSpec(**_given(input, _CREDENTIAL))
        return Credential.from_row(await credentials.create(info.context.ctx, spec))

    @strawberry.mutation(description="Replace the name, description, metadata and/or data given "
                         "(scope credentials:write).")
    async def update_credential(
        self, info: Ctx, id: CredentialId,
        input: Annotated[UpdateCredentialInput, strawberry.argument(description="The fields to replace.")],
    ) -> Credential:
        spec = CredentialSpec(**_given(input, _CREDENTIAL))
        return Credential.from_row(await credentials.update(info.context.ctx, str(id), spec))

    @strawberry.mutation(description="Delete a credential no connector uses (scope credentials:write).")
    async def delete_credential(self, info: Ctx, id: CredentialId) -> Credential:
        return Credential.from_row(await credentials.delete(info.context.ctx, str(id)))

    @strawberry.mutation(description="Create a connector instance (scope connectors:write).")
    async def create_connector(
        self, info: Ctx, input: Annotated[CreateConnectorInput, strawberry.argument(description="The new connector.")]
    ) -> Connector:
        spec = ConnectorSpec(**_given(input, _CONNECTOR))
        return Connector.from_row(await connectors.create(info.context.ctx, spec))

    @strawberry.mutation(description="Change the name, credential and/or config given (scope connectors:write); "
                         "CONFLICT when the config would drop an action a workflow's step or a policy's notify uses.")
    async def update_connector(
        self, info: Ctx, id: ConnectorId,
        input: Annotated[UpdateConnectorInput, strawberry.argument(description="The fields to change.")],
    ) -> Connector:
        spec = ConnectorSpec(**_given(input, _CONNECTOR))
        return Connector.from_row(await connectors.update(info.context.ctx, str(id), spec))

    @strawberry.mutation(description="Delete a connector instance and its call log (scope connectors:write).")
    async def delete_connector(self, info: Ctx, id: ConnectorId) -> Connector:
        return Connector.from_row(await connectors.delete(info.context.ctx, str(id)))

    @strawberry.mutation(description="Run one action (scope connectors:write); CONNECTOR_FAILED (with "
                         "retryable) when the provider fails. Each call that reaches the provider, succeeded "
                         "or failed, appends a `connector.action_run` audit entry.")
    async def run_connector_action(
        self, info: Ctx, connector_id: ConnectorId,
        action: Annotated[str, strawberry.argument(description="The action's name (see the connector's `actions`).")],
        input: Annotated[strawberry.scalars.JSON, strawberry.argument(
            description="The action's input, as its `inputSchema` describes it."
        )],
        idempotency_key: Annotated[str | None, strawberry.argument(
            description="A key that makes retries safe where the provider supports it."
        )] = None,
    ) -> ConnectorRun:
        result = await direct.run_direct(info.context.ctx, str(connector_id), action, input,
                                         idempotency_key=idempotency_key)
        return ConnectorRun(output=result.output, duration_ms=result.duration_ms,  # type: ignore[arg-type]
                            call_id=strawberry.ID(result.call_id))
