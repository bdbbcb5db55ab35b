"""Queries: viewer, apiKeys, apiKey(id)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.keys import api_keys, organizations
from schema.context import GraphQLContext
from schema.keys.types import ApiKey, Organization, Viewer
from schema.pagination import After, Connection, First

ApiKeyId = Annotated[strawberry.ID, strawberry.argument(description="The key's id (`key_...`).")]


@strawberry.type
class KeyQueries:
    @strawberry.field(description="The calling organization and API key.")
    async def viewer(self, info: Info[GraphQLContext, None]) -> Viewer:
        ctx = info.context.ctx
        org, key = await organizations.current(ctx)
        return Viewer(organization=Organization.from_row(org), api_key=ApiKey.from_row(key))

    @strawberry.field(description="API keys of the organization, newest first (scope admin).")
    async def api_keys(
        self, info: Info[GraphQLContext, None], first: First = 50, after: After = None
    ) -> Connection[ApiKey]:
        page = await api_keys.list_keys(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, ApiKey.from_row)

    @strawberry.field(description="One API key of the organization (scope admin).")
    async def api_key(self, info: Info[GraphQLContext, None], id: ApiKeyId) -> ApiKey:
        return ApiKey.from_row(await api_keys.get(info.context.ctx, str(id)))
