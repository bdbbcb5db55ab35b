"""GraphQL types for webhooks, deliveries and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from models.webhooks import DeliveryAttempt as AttemptRow
from models.webhooks import Webhook as WebhookRow
from models.webhooks import WebhookDelivery as DeliveryRow
from schema.enums import DeliveryStatus
from schema.node import Node


@strawberry.type(description="How a webhook retries failed deliveries.")
class RetryPolicy:
    max_attempts: int | None = strawberry.field(description="Attempts per delivery, the first included.")
    backoff_ms: int | None = strawberry.field(description="The first wait between attempts; it doubles after each.")


@strawberry.type(description="A URL that receives the organization's events, signed with its secret.")
class Webhook(Node):
    id: strawberry.ID = strawberry.field(description="The webhook's id (`wh_...`).")
    name: str = strawberry.field(description="Its name.")
    url: str = strawberry.field(description="Where events are sent.")
    events: list[str] = strawberry.field(description="The event names or globs it receives (`action.*`, `*`).")
    headers: JSON = strawberry.field(description="Custom headers sent with every delivery; a key without "
                                                 "webhooks:write reads each value as `********`.")
    retry_policy: RetryPolicy | None = strawberry.field(description="Its retry policy; null for the default "
                                                                    "schedule.")
    active: bool = strawberry.field(description="False when disabled (by hand or after repeated failures).")
    disabled_reason: str | None = strawberry.field(description="Why it was disabled, if it was.")
    consecutive_failures: int = strawberry.field(description="Failed attempts in a row since the last success.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: WebhookRow) -> Webhook:
        policy = None
        if row.max_attempts is not None or row.backoff_ms is not None:
            policy = RetryPolicy(max_attempts=row.max_attempts, backoff_ms=row.backoff_ms)
        return cls(
            id=strawberry.ID(row.id), name=row.name, url=row.url, events=list(row.events),
            headers=dict(row.headers),  # type: ignore[arg-type]
            retry_policy=policy, active=row.active, disabled_reason=row.disabled_reason,
            consecutive_failures=row.consecutive_failures, created_at=row.created_at, updated_at=row.updated_at,
        )


@strawberry.type(description="A webhook and its signing secret.")
class WebhookWithSecret:
    webhook: Webhook = strawberry.field(description="The webhook.")
    secret: str = strawberry.field(description="The signing secret: shown once, never again.")


@strawberry.type(description="One try at sending a delivery.")
class DeliveryAttempt:
    attempt: int = strawberry.field(description="Its number, from 1.")
    attempted_at: datetime = strawberry.field(description="When it was made.")
    status_code: int | None = strawberry.field(description="The receiver's HTTP status; null when none came.")
    duration_ms: int = strawberry.field(description="How long it took, in milliseconds.")
    error: str | None = strawberry.field(description="What went wrong, if it failed.")
    response_excerpt: str | None = strawberry.field(description="The start of the receiver's answer.")

    @classmethod
    def from_row(cls, row: AttemptRow) -> DeliveryAttempt:
        return cls(attempt=row.number, attempted_at=row.attempted_at, status_code=row.status_code,
                   duration_ms=row.duration_ms, error=row.error, response_excerpt=row.response_excerpt)


@strawberry.type(description="One event sent to one webhook; its id is the same on every retry.")
class WebhookDelivery(Node):
    id: strawberry.ID = strawberry.field(description="The delivery's id (`dlv_...`), sent as X-Webhook-Delivery.")
    webhook_id: strawberry.ID = strawberry.field(description="The webhook's id.")
    event_id: str = strawberry.field(description="The event's id (`evt_...`).")
    event: str = strawberry.field(description="The event's name, e.g. `action.approved`.")
    status: DeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry.field(description="When the next attempt is due, if one is.")
    last_status_code: int | None = strawberry.field(description="The last attempt's HTTP status, if any.")
    last_error: str | None = strawberry.field(description="The last attempt's error, if it failed.")
    delivered_at: datetime | None = strawberry.field(description="When it succeeded, if it did.")
    created_at: datetime = strawberry.field(description="When the event was queued for this webhook.")
    attempt_log: list[DeliveryAttempt] = strawberry.field(description="Every attempt, oldest first.")

    @classmethod
    def from_row(cls, row: DeliveryRow) -> WebhookDelivery:
        log: Any = row.attempt_log
        attempts = sorted(log, key=lambda a: a.number) if getattr(log, "_fetched", False) else []
        return cls(
            id=strawberry.ID(row.id), webhook_id=strawberry.ID(row.webhook_id), event_id=row.event_id,
            event=row.event_type, status=DeliveryStatus(row.status), attempts=row.attempts,
            next_attempt_at=row.next_attempt_at, last_status_code=row.last_status_code, last_error=row.last_error,
            delivered_at=row.delivered_at, created_at=row.created_at,
            attempt_log=[DeliveryAttempt.from_row(a) for a in attempts],
        )


@strawberry.input(description="How a webhook retries failed deliveries.")
class RetryPolicyInput:
    max_attempts: int = strawberry.field(description="Attempts per delivery, the first included.")
    backoff_ms: int = strawberry.field(description="The first wait between attempts in milliseconds; it doubles.")


@strawberry.input(description="A new webhook.")
class CreateWebhookInput:
    name: str = strawberry.field(description="Its name.")
    url: str = strawberry.field(description="Where to send events: http or https, a public address.")
    events: list[str] = strawberry.field(description="Event names or globs to receive (`action.*`, `*`).")
    headers: JSON | None = strawberry.field(default=None, description="Custom headers: an object of strings.")
    retry_policy: RetryPolicyInput | None = strawberry.field(default=None, description="A retry policy; the default "
                                                                                      "schedule when left out.")
    active: bool = strawberry.field(default=True, description="False to create it disabled.")


@strawberry.input(description="The fields of a webhook to change; those left out keep their value.")
class UpdateWebhookInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    url: str | None = strawberry.field(default=strawberry.UNSET, description="A new URL.")
    events: list[str] | None = strawberry.field(default=strawberry.UNSET, description="New event names or globs.")
    headers: JSON | None = strawberry.field(default=strawberry.UNSET, description="New custom headers.")
    retry_policy: RetryPolicyInput | None = strawberry.field(
        default=strawberry.UNSET, description="A new retry policy; null returns to the default schedule."
    )
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="False disables it; true enables "
                                                                                 "it.")
