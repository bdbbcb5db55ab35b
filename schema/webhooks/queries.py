"""Queries: webhooks, webhook(id), webhookDeliveries."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.webhooks import deliveries, webhooks
from schema.context import GraphQLContext
from schema.pagination import After, Connection, First
from schema.webhooks.types import Webhook, WebhookDelivery

WebhookId = Annotated[strawberry.ID, strawberry.argument(description="The webhook's id (`wh_...`).")]
DeliveryStatusFilter = Annotated[str | None, strawberry.argument(
    description="Only deliveries in this status: a DeliveryStatus value (`pending`, `succeeded`, `failed`, `dead`)."
)]


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="The organization's webhooks, newest first (scope webhooks:read).")
    async def webhooks(
        self, info: Info[GraphQLContext, None], first: First = 50, after: After = None
    ) -> Connection[Webhook]:
        page = await webhooks.list_webhooks(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Webhook.from_row)

    @strawberry.field(description="One webhook (scope webhooks:read).")
    async def webhook(self, info: Info[GraphQLContext, None], id: WebhookId) -> Webhook:
        return Webhook.from_row(await webhooks.get(info.context.ctx, str(id)))

    @strawberry.field(description="A webhook's deliveries, newest first, with their attempts (scope webhooks:read).")
    async def webhook_deliveries(
        self, info: Info[GraphQLContext, None], webhook_id: WebhookId, status: DeliveryStatusFilter = None,
        first: First = 50, after: After = None,
    ) -> Connection[WebhookDelivery]:
        page = await deliveries.list_deliveries(
            info.context.ctx, str(webhook_id), status=status, limit=first, cursor=after
        )
        return Connection.from_page(page, WebhookDelivery.from_row)
