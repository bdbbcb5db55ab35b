"""Mutations: createApiKey, revokeApiKey."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.keys import api_keys
from schema.context import GraphQLContext
from schema.keys.types import ApiKey, CreateApiKeyInput, CreatedApiKey


@strawberry.type
class KeyMutations:
    @strawberry.mutation(description="Create an API key; its secret is returned once (scope admin).")
    async def create_api_key(
        self, info: Info[GraphQLContext, None],
        input: Annotated[CreateApiKeyInput, strawberry.argument(description="The new key.")],
    ) -> CreatedApiKey:
        created = await api_keys.create(
            info.context.ctx, name=input.name, scopes=input.scopes, rate_limit=input.rate_limit,
            agent_id=input.agent_id,
        )
        return CreatedApiKey(api_key=ApiKey.from_row(created.key), secret=created.secret)

    @strawberry.mutation(description="Revoke an API key at once (scope admin; CONFLICT when a policy rule needs "
                                     "it to reach its approvals).")
    async def revoke_api_key(
        self, info: Info[GraphQLContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's id (`key_...`).")],
    ) -> ApiKey:
        return ApiKey.from_row(await api_keys.revoke(info.context.ctx, str(id)))
