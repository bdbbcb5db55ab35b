"""REST: /api/v1/webhooks, their deliveries, redelivery, tests, recovery and secret rotation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import isoformat_z, parse_timestamp
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from resolvers.errors import Invalid
from resolvers.webhooks import deliveries, webhooks
from resolvers.webhooks.webhooks import WebhookSpec

TAGS = ["webhooks"]


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    maxAttempts: int = Field(ge=1, le=20)
    backoffMs: int = Field(ge=10, le=3_600_000)


class UpdateWebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    url: str | None = Field(None, min_length=1, max_length=2048)
    events: list[str] | None = Field(None, min_length=1, max_length=50)
    headers: dict[str, str] | None = None
    retryPolicy: RetryPolicy | None = None
    active: bool | None = None


class CreateWebhookBody(UpdateWebhookBody):
    name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    url: str = Field(min_length=1, max_length=2048)  # type: ignore[assignment]
    events: list[str] = Field(min_length=1, max_length=50)  # type: ignore[assignment]


class DeliveryQuery(ListQuery):
    status: str | None = None


class RecoverBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: str


class WebhookOut(BaseModel):
    id: str
    name: str
    url: str
    events: list[str]
    headers: dict[str, str] = Field(description="Custom headers sent with every delivery; a key without "
                                    "webhooks:write reads each value as ********")
    retryPolicy: RetryPolicy | None
    active: bool
    disabledReason: str | None
    consecutiveFailures: int
    createdAt: str
    updatedAt: str


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(description="The signing secret: shown once, never again")


class AttemptOut(BaseModel):
    attempt: int
    attemptedAt: str
    statusCode: int | None
    durationMs: int
    error: str | None
    responseExcerpt: str | None


class DeliveryOut(BaseModel):
    id: str
    webhookId: str
    eventId: str
    event: str
    status: str
    attempts: int
    nextAttemptAt: str | None
    lastStatusCode: int | None
    lastError: str | None
    deliveredAt: str | None
    createdAt: str
    attemptLog: list[AttemptOut]


class RecoveredOut(BaseModel):
    requeued: int


def spec_of(body: UpdateWebhookBody) -> WebhookSpec:
    """Only the fields the client sent; `retryPolicy: null` removes the policy."""
    sent = body.model_fields_set
    values: dict[str, Any] = {k: getattr(body, k) for k in ("name", "url", "events", "headers", "active") if k in sent}
    if "retryPolicy" in sent:
        policy = body.retryPolicy
        values["max_attempts"] = policy.maxAttempts if policy else None
        values["backoff_ms"] = policy.backoffMs if policy else None
    return WebhookSpec(**values)


def serialise_webhook(hook: Webhook) -> dict[str, Any]:
    policy = None
    if hook.max_attempts is not None or hook.backoff_ms is not None:
        policy = {"maxAttempts": hook.max_attempts, "backoffMs": hook.backoff_ms}
    return {
        "id": hook.id, "name": hook.name, "url": hook.url, "events": hook.events, "headers": hook.headers,
        "retryPolicy": policy, "active": hook.active, "disabledReason": hook.disabled_reason,
        "consecutiveFailures": hook.consecutive_failures,
        "createdAt": isoformat_z(hook.created_at), "updatedAt": isoformat_z(hook.updated_at),
    }


def serialise_attempt(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "attempt": attempt.number, "attemptedAt": isoformat_z(attempt.attempted_at),
        "statusCode": attempt.status_code, "durationMs": attempt.duration_ms, "error": attempt.error,
        "responseExcerpt": attempt.response_excerpt,
    }


def attempts_of(delivery: WebhookDelivery) -> list[DeliveryAttempt]:
    """The loaded attempts in order; none when the caller did not load them (a fresh delivery)."""
    log = delivery.attempt_log
    return sorted(log, key=lambda a: a.number) if getattr(log, "_fetched", False) else []


def serialise_delivery(delivery: WebhookDelivery) -> dict[str, Any]:
    log = attempts_of(delivery)
    return {
        "id": delivery.id, "webhookId": delivery.webhook_id, "eventId": delivery.event_id,
        "event": delivery.event_type, "status": delivery.status, "attempts": delivery.attempts,
        "nextAttemptAt": isoformat_z(delivery.next_attempt_at), "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error, "deliveredAt": isoformat_z(delivery.delivered_at),
        "createdAt": isoformat_z(delivery.created_at), "attemptLog": [serialise_attempt(a) for a in log],
    }


@endpoint("POST", "/webhooks", summary="Create a webhook", tags=TAGS, body=CreateWebhookBody,
          scopes=("webhooks:write",), response=WebhookWithSecretOut, status=201)
async def create_webhook(call: RestCall) -> dict[str, Any]:
    created = await webhooks.create(call.ctx, spec_of(call.body))
    return {**serialise_webhook(created.webhook), "secret": created.secret}


@endpoint("GET", "/webhooks", summary="List webhooks", tags=TAGS, query=ListQuery, scopes=("webhooks:read",),
          response=list[WebhookOut])
async def list_webhooks(call: RestCall) -> Any:
    page = await webhooks.list_webhooks(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_webhook)


@endpoint("GET", "/webhooks/{id}", summary="Get a webhook", tags=TAGS, response=WebhookOut)
async def get_webhook(call: RestCall) -> dict[str, Any]:
    return serialise_webhook(await webhooks.get(call.ctx, call.path["id"]))


@endpoint("PUT", "/webhooks/{id}", summary="Update a webhook", tags=TAGS, body=UpdateWebhookBody,
          scopes=("webhooks:write",), response=WebhookOut)
async def update_webhook(call: RestCall) -> dict[str, Any]:
    return serialise_webhook(await webhooks.update(call.ctx, call.path["id"], spec_of(call.body)))


@endpoint("DELETE", "/webhooks/{id}", summary="Delete a webhook and its delivery log", tags=TAGS,
          response=WebhookOut)
async def delete_webhook(call: RestCall) -> dict[str, Any]:
    return serialise_webhook(await webhooks.delete(call.ctx, call.path["id"]))


@endpoint("POST", "/webhooks/{id}/rotate-secret", summary="Rotate the signing secret", tags=TAGS,
          response=WebhookWithSecretOut)
async def rotate_secret(call: RestCall) -> dict[str, Any]:
    rotated = await webhooks.rotate_secret(call.ctx, call.path["id"])
    return {**serialise_webhook(rotated.webhook), "secret": rotated.secret}


@endpoint("POST", "/webhooks/{id}/enable", summary="Re-enable a disabled webhook", tags=TAGS,
          response=WebhookOut)
async def enable_webhook(call: RestCall) -> dict[str, Any]:
    return serialise_webhook(await webhooks.enable(call.ctx, call.path["id"]))


@endpoint("POST", "/webhooks/{id}/test", summary="Send a webhook.test event (409 while the webhook is disabled)",
          tags=TAGS, response=DeliveryOut, status=202, errors=(409,))
async def test_webhook(call: RestCall) -> dict[str, Any]:
    return serialise_delivery(await webhooks.send_test(call.ctx, call.path["id"]))


@endpoint("GET", "/webhooks/{id}/deliveries", summary="List deliveries with their attempts", tags=TAGS,
          query=DeliveryQuery, scopes=("webhooks:read",), response=list[DeliveryOut])
async def list_deliveries(call: RestCall) -> Any:
    query: DeliveryQuery = call.query
    page = await deliveries.list_deliveries(
        call.ctx, call.path["id"], status=query.status, limit=query.limit, cursor=query.cursor
    )
    return list_response(call.request, page.items, page.next_cursor, serialise_delivery)


@endpoint("POST", "/webhooks/{id}/deliveries/{deliveryId}/redeliver",
          summary="Send a delivery again (409 while it is being sent, or the webhook is disabled)",
          tags=TAGS, response=DeliveryOut, status=202, errors=(409,))
async def redeliver(call: RestCall) -> dict[str, Any]:
    return serialise_delivery(await deliveries.redeliver(call.ctx, call.path["id"], call.path["deliveryId"]))


@endpoint("POST", "/webhooks/{id}/recover", summary="Send every failed delivery since a time again (409 "
          "while the webhook is disabled)", tags=TAGS, body=RecoverBody,
          scopes=("webhooks:write",), response=RecoveredOut, status=202, errors=(409,))
async def recover(call: RestCall) -> dict[str, Any]:
    try:
        since = parse_timestamp(call.body.since)
    except ValueError:
        raise Invalid("since must be an ISO-8601 timestamp") from None
    return {"requeued": await deliveries.recover(call.ctx, call.path["id"], since)}
