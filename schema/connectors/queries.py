"""Queries: credentials, credential(id), connectorCatalogue, connectors, connector(id), connectorCalls."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.connectors import calls, connectors
from resolvers.connectors.catalogue import catalogue
from resolvers.credentials import credentials
from schema.connectors.types import Connector, ConnectorCall, ConnectorType, Credential
from schema.context import GraphQLContext
from schema.pagination import After, Connection, First

Ctx = Info[GraphQLContext, None]
CredentialId = Annotated[strawberry.ID, strawberry.argument(description="The credential's id (`cred_...`).")]
ConnectorId = Annotated[strawberry.ID, strawberry.argument(description="The connector's id (`conn_...`).")]
CallStatusFilter = Annotated[str | None, strawberry.argument(
    description="Only calls that ended so: a ConnectorCallStatus value (`succeeded` or `failed`)."
)]


@strawberry.type
class ConnectorQueries:
    @strawberry.field(description="The organization's credentials, sanitized, newest first (scope credentials:read).")
    async def credentials(self, info: Ctx, first: First = 50, after: After = None) -> Connection[Credential]:
        page = await credentials.list_credentials(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Credential.from_row)

    @strawberry.field(description="One credential, sanitized (scope credentials:read).")
    async def credential(self, info: Ctx, id: CredentialId) -> Credential:
        return Credential.from_row(await credentials.find(info.context.ctx, str(id)))

    @strawberry.field(description="Every connector type with its actions' JSON Schemas.")
    def connector_catalogue(self) -> list[ConnectorType]:
        return [ConnectorType.from_description(entry) for entry in catalogue()]

    @strawberry.field(description="The organization's connector instances, newest first (scope connectors:read).")
    async def connectors(self, info: Ctx, first: First = 50, after: After = None) -> Connection[Connector]:
        page = await connectors.list_connectors(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Connector.from_row)

    @strawberry.field(description="One connector instance with its actions (scope connectors:read).")
    async def connector(self, info: Ctx, id: ConnectorId) -> Connector:
        return Connector.from_row(await connectors.find(info.context.ctx, str(id)))

    @strawberry.field(description="A connector's call log, newest first (scope connectors:read).")
    async def connector_calls(
        self, info: Ctx, connector_id: ConnectorId, status: CallStatusFilter = None, first: First = 50,
        after: After = None,
    ) -> Connection[ConnectorCall]:
        page = await calls.list_calls(info.context.ctx, str(connector_id), status=status, limit=first, cursor=after)
        return Connection.from_page(page, ConnectorCall.from_row)
