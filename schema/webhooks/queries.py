"""Queries: webhooks, webhook(id), webhookDeliveries."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.webhooks import deliveries, webhooks
from schema.context import GraphQLContext
from schema.pagination import Connection
from schema.webhooks.types import Webhook, WebhookDelivery


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="The organization's webhooks (scope webhooks:read).")
    async def webhooks(
        self, info: Info[GraphQLContext, None], first: int = 50, after: str | None = None
    ) -> Connection[Webhook]:
        page = await webhooks.list_webhooks(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Webhook.from_row)

    @strawberry.field(description="One webhook.")
    async def webhook(self, info: Info[GraphQLContext, None], id: strawberry.ID) -> Webhook:
        return Webhook.from_row(await webhooks.find(info.context.ctx, str(id)))

    @strawberry.field(description="A webhook's deliveries, newest first, with their attempts.")
    async def webhook_deliveries(
        self, info: Info[GraphQLContext, None], webhook_id: strawberry.ID, status: str | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        page = await deliveries.list_deliveries(
            info.context.ctx, str(webhook_id), status=status, limit=first, cursor=after
        )
        return Connection.from_page(page, WebhookDelivery.from_row)
