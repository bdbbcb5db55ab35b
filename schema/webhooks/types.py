"""GraphQL types for webhooks, deliveries and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from models.webhooks import DeliveryAttempt as AttemptRow
from models.webhooks import Webhook as WebhookRow
from models.webhooks import WebhookDelivery as DeliveryRow


@strawberry.type
class RetryPolicy:
    max_attempts: int | None
    backoff_ms: int | None


@strawberry.type
class Webhook:
    id: strawberry.ID
    name: str
    url: str
    events: list[str]
    headers: JSON
    retry_policy: RetryPolicy | None
    active: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime

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


@strawberry.type
class WebhookWithSecret:
    webhook: Webhook
    secret: str = strawberry.field(description="The signing secret: shown once, never again.")


@strawberry.type
class DeliveryAttempt:
    attempt: int
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str | None

    @classmethod
    def from_row(cls, row: AttemptRow) -> DeliveryAttempt:
        return cls(attempt=row.number, attempted_at=row.attempted_at, status_code=row.status_code,
                   duration_ms=row.duration_ms, error=row.error, response_excerpt=row.response_excerpt)


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID
    webhook_id: strawberry.ID
    event_id: str
    event: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[DeliveryAttempt]

    @classmethod
    def from_row(cls, row: DeliveryRow) -> WebhookDelivery:
        log: Any = row.attempt_log
        attempts = sorted(log, key=lambda a: a.number) if getattr(log, "_fetched", False) else []
        return cls(
            id=strawberry.ID(row.id), webhook_id=strawberry.ID(row.webhook_id), event_id=row.event_id,
            event=row.event_type, status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at,
            last_status_code=row.last_status_code, last_error=row.last_error, delivered_at=row.delivered_at,
            created_at=row.created_at, attempt_log=[DeliveryAttempt.from_row(a) for a in attempts],
        )


@strawberry.input
class RetryPolicyInput:
    max_attempts: int
    backoff_ms: int


@strawberry.input
class CreateWebhookInput:
    name: str
    url: str
    events: list[str]
    headers: JSON | None = None
    retry_policy: RetryPolicyInput | None = None
    active: bool = True


@strawberry.input
class UpdateWebhookInput:
    name: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    events: list[str] | None = strawberry.UNSET
    headers: JSON | None = strawberry.UNSET
    retry_policy: RetryPolicyInput | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
