"""Dispatch: claim due deliveries, send one attempt, record what happened and decide what next.

A claim is a lease (`claimed_until`): taken under FOR UPDATE SKIP LOCKED on PostgreSQL so two
dispatchers never hold the same delivery, and left to expire if a dispatcher dies mid-send, after
which another one retries with the same delivery id. Delivery is therefore at least once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import F, Q

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.senders import Answer, SendFailed, WebhookSender
from models.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from resolvers.context import Services
from resolvers.webhooks import health
from resolvers.webhooks.payloads import encode, signed_headers
from resolvers.webhooks.policy import max_attempts, next_attempt_at, retry_after_seconds

GONE = 410
THROTTLED = frozenset({429, 503})


@dataclass(slots=True)
class Outcome:
    """One attempt's result, whichever way it went."""

    answer: Answer | None
    failure: SendFailed | None

    @property
    def succeeded(self) -> bool:
        return self.answer is not None and 200 <= self.answer.status < 300

    @property
    def status_code(self) -> int | None:
        return self.answer.status if self.answer else None

    @property
    def duration_ms(self) -> int:
        return self.answer.duration_ms if self.answer else self.failure.duration_ms  # type: ignore[union-attr]

    @property
    def error(self) -> str | None:
        if self.failure is not None:
            return self.failure.message[:500]
        if not self.succeeded:
            return f"HTTP {self.status_code}" + (" (redirects are not followed)" if self._redirect else "")
        return None

    @property
    def _redirect(self) -> bool:
        return self.answer is not None and 300 <= self.answer.status < 400


CLAIMED_FIELDS = ("id", "organization_id", "webhook_id", "event_id", "event_type", "payload", "attempts")


@dataclass(slots=True)
class Claimed:
    """A leased delivery and its webhook (None when the webhook was deleted meanwhile)."""

    delivery: WebhookDelivery
    webhook: Webhook | None


async def claim_due(services: Services, limit: int) -> list[Claimed]:
    """Lease up to `limit` due deliveries to this dispatcher, each with its webhook loaded."""
    now = utcnow()
    async with atomic():
        query = (
            WebhookDelivery.filter(status="pending", next_attempt_at__lte=now)
            .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at")
            .limit(limit)
            .only(*CLAIMED_FIELDS)
        )
        if not services.settings.is_sqlite:
            query = query.select_for_update(skip_locked=True)
        rows = await query
        if rows:
            lease = now + timedelta(seconds=services.settings.webhook_claim_seconds)
            await WebhookDelivery.filter(id__in=[r.id for r in rows]).update(claimed_until=lease)
    if not rows:
        return []
    hooks = {h.id: h for h in await Webhook.filter(id__in={r.webhook_id for r in rows})}
    return [Claimed(row, hooks.get(row.webhook_id)) for row in rows]


def active_secrets(webhook: Webhook) -> list[str]:
    """The current secret, plus the previous one while its rotation grace lasts."""
    previous, expires = webhook.previous_secret, webhook.previous_secret_expires_at
    if previous and expires and expires > utcnow():
        return [webhook.secret, previous]
    return [webhook.secret]


async def attempt(sender: WebhookSender, delivery: WebhookDelivery, webhook: Webhook) -> Outcome:
    """Send the delivery once, signed for this attempt."""
    raw = encode(delivery.payload)
    headers = signed_headers(
        raw, delivery_id=delivery.id, event_type=delivery.event_type,
        secrets=active_secrets(webhook), custom=webhook.headers,
    )
    try:
        return Outcome(await sender.post(webhook.url, raw, headers), None)
    except SendFailed as failure:
        return Outcome(None, failure)


async def settle_unsendable(claimed: Claimed) -> bool:
    """Close a claimed delivery whose webhook is gone or disabled; True when it was one."""
    if claimed.webhook is None:
        await WebhookDelivery.filter(id=claimed.delivery.id).delete()
        return True
    if not claimed.webhook.active:
        await WebhookDelivery.filter(id=claimed.delivery.id).update(
            status="failed", claimed_until=None, last_error="webhook is disabled"
        )
        return True
    return False


async def deliver(services: Services, sender: WebhookSender, claimed: Claimed) -> None:
    """One attempt for a claimed delivery, recorded with its consequences."""
    if await settle_unsendable(claimed):
        return
    outcome = await attempt(sender, claimed.delivery, claimed.webhook)  # type: ignore[arg-type]
    await record_batch(services, [(claimed, outcome)])


async def record_batch(services: Services, results: list[tuple[Claimed, Outcome]]) -> None:
    """Log a batch of attempts and move their deliveries on in one transaction: successes with one
    UPDATE per status code, failures one by one (each may retry, disable or give up)."""
    now = utcnow()
    async with atomic():
        await DeliveryAttempt.bulk_create([_attempt_row(c, o, now) for c, o in results])
        succeeded = [(c, o) for c, o in results if o.succeeded]
        by_code: dict[int | None, list[str]] = defaultdict(list)
        for claimed, outcome in succeeded:
            by_code[outcome.status_code].append(claimed.delivery.id)
        for code, ids in by_code.items():
            await WebhookDelivery.filter(id__in=ids).update(
                status="succeeded", attempts=F("attempts") + 1, claimed_until=None, last_status_code=code,
                last_error=None, delivered_at=now, next_attempt_at=None,
            )
        healed = {c.webhook.id for c, _ in succeeded if c.webhook and c.webhook.consecutive_failures}
        if healed:  # as loaded at claim time
            await Webhook.filter(id__in=healed).update(consecutive_failures=0)
        for claimed, outcome in results:
            if not outcome.succeeded and claimed.webhook is not None:
                await _record_failure(services, claimed.delivery, claimed.webhook, outcome)


def _attempt_row(claimed: Claimed, outcome: Outcome, now: datetime) -> DeliveryAttempt:
    return DeliveryAttempt(
        delivery_id=claimed.delivery.id, number=claimed.delivery.attempts + 1, attempted_at=now,
        status_code=outcome.status_code, duration_ms=outcome.duration_ms, error=outcome.error,
        response_excerpt=outcome.answer.excerpt if outcome.answer else None,
    )


async def _record_failure(services: Services, delivery: WebhookDelivery, webhook: Webhook, outcome: Outcome) -> None:
    number = delivery.attempts + 1
    await WebhookDelivery.filter(id=delivery.id).update(**_next_state(delivery, webhook, outcome, number))
    await _count_failure(services, webhook, outcome)


def _next_state(delivery: WebhookDelivery, webhook: Webhook, outcome: Outcome, number: int) -> dict[str, object]:
    state: dict[str, object] = {
        "attempts": number, "claimed_until": None,
        "last_status_code": outcome.status_code, "last_error": outcome.error,
    }
    if outcome.succeeded:
        return {**state, "status": "succeeded", "delivered_at": utcnow(), "next_attempt_at": None}
    permanent = outcome.status_code == GONE or (outcome.failure is not None and outcome.failure.permanent)
    if permanent:
        return {**state, "status": "dead", "next_attempt_at": None}
    if number >= max_attempts(webhook.max_attempts):
        return {**state, "status": "failed", "next_attempt_at": None}
    asked = None
    if outcome.answer is not None and outcome.answer.status in THROTTLED:
        asked = retry_after_seconds(outcome.answer.retry_after)
    return {**state, "status": "pending", "next_attempt_at": next_attempt_at(number, webhook.backoff_ms, asked)}


async def _count_failure(services: Services, webhook: Webhook, outcome: Outcome) -> None:
    if outcome.status_code == GONE:
        await health.disable(services, webhook, "the endpoint answered 410 Gone")
        return
    await Webhook.filter(id=webhook.id).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = await Webhook.filter(id=webhook.id).first().values_list("consecutive_failures", flat=True)
    limit = services.settings.webhook_disable_after_failures
    if isinstance(failures, int) and failures >= limit:
        await health.disable(services, webhook, f"{limit} consecutive failed attempts")
