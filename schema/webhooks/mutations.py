"""Mutations: create, update, delete, rotate the secret, enable, test, redeliver, recover."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.webhooks import deliveries, webhooks
from resolvers.webhooks.webhooks import WebhookSpec
from schema.context import GraphQLContext
from schema.webhooks.types import (
    CreateWebhookInput,
    UpdateWebhookInput,
    Webhook,
    WebhookDelivery,
    WebhookWithSecret,
)

Ctx = Info[GraphQLContext, None]
WebhookId = Annotated[strawberry.ID, strawberry.argument(description="The webhook's id (`wh_...`).")]
DeliveryId = Annotated[strawberry.ID, strawberry.argument(description="The delivery's id (`dlv_...`).")]


def spec_of(data: CreateWebhookInput | UpdateWebhookInput) -> WebhookSpec:
    """The fields the client gave; `retryPolicy: null` removes the policy."""
    values: dict[str, Any] = {}
    for name in ("name", "url", "events", "headers", "active"):
        value = getattr(data, name)
        if value is not strawberry.UNSET:
            values[name] = value
    policy = data.retry_policy
    if policy is not strawberry.UNSET:
        values["max_attempts"] = policy.max_attempts if policy else None
        values["backoff_ms"] = policy.backoff_ms if policy else None
    return WebhookSpec(**values)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Create a webhook; its signing secret is returned once (scope webhooks:write).")
    async def create_webhook(
        self, info: Ctx, input: Annotated[CreateWebhookInput, strawberry.argument(description="The new webhook.")]
    ) -> WebhookWithSecret:
        created = await webhooks.create(info.context.ctx, spec_of(input))
        return WebhookWithSecret(webhook=Webhook.from_row(created.webhook), secret=created.secret)

    @strawberry.mutation(description="Change the fields given; enabling it clears its failure run "
                         "(scope webhooks:write).")
    async def update_webhook(
        self, info: Ctx, id: WebhookId,
        input: Annotated[UpdateWebhookInput, strawberry.argument(description="The fields to change.")],
    ) -> Webhook:
        return Webhook.from_row(await webhooks.update(info.context.ctx, str(id), spec_of(input)))

    @strawberry.mutation(description="Delete a webhook and its delivery log (scope webhooks:write).")
    async def delete_webhook(self, info: Ctx, id: WebhookId) -> Webhook:
        return Webhook.from_row(await webhooks.delete(info.context.ctx, str(id)))

    @strawberry.mutation(description="A new secret; the old one keeps signing during the grace period "
                         "(scope webhooks:write).")
    async def rotate_webhook_secret(self, info: Ctx, id: WebhookId) -> WebhookWithSecret:
        rotated = await webhooks.rotate_secret(info.context.ctx, str(id))
        return WebhookWithSecret(webhook=Webhook.from_row(rotated.webhook), secret=rotated.secret)

    @strawberry.mutation(description="Re-enable a disabled webhook (scope webhooks:write).")
    async def enable_webhook(self, info: Ctx, id: WebhookId) -> Webhook:
        return Webhook.from_row(await webhooks.enable(info.context.ctx, str(id)))

    @strawberry.mutation(description="Send a webhook.test event to this webhook (scope webhooks:write).")
    async def test_webhook(self, info: Ctx, id: WebhookId) -> WebhookDelivery:
        return WebhookDelivery.from_row(await webhooks.send_test(info.context.ctx, str(id)))

    @strawberry.mutation(description="Send one delivery again, with the same delivery id; CONFLICT while a worker "
                         "is sending it (scope webhooks:write).")
    async def redeliver_webhook(
        self, info: Ctx, webhook_id: WebhookId, delivery_id: DeliveryId
    ) -> WebhookDelivery:
        delivery = await deliveries.redeliver(info.context.ctx, str(webhook_id), str(delivery_id))
        return WebhookDelivery.from_row(delivery)

    @strawberry.mutation(description="Send every failed or dead delivery created since a time again; returns how "
                         "many (scope webhooks:write).")
    async def recover_webhook(
        self, info: Ctx, id: WebhookId,
        since: Annotated[datetime, strawberry.argument(description="Deliveries created at or after this time.")],
    ) -> int:
        return await deliveries.recover(info.context.ctx, str(id), since)
