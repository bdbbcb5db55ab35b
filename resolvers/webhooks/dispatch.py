"""Dispatch: claim due deliveries, send one attempt, record what happened and decide what next.

A claim is a lease (`claimed_until`): taken under FOR UPDATE SKIP LOCKED on PostgreSQL so two
dispatchers never hold the same delivery, and left to expire if a dispatcher dies mid-send, after
which another one retries with the same delivery id. Delivery is therefore at least once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.senders import Answer, SendFailed, WebhookSender
from models.webhooks import DeliveryAttempt, WebhookDelivery
from resolvers.context import Services
from resolvers.webhooks import health
from resolvers.webhooks.leases import Due, Lease, Moved, Target, lease_due, record_moves
from resolvers.webhooks.payloads import signed_headers
from resolvers.webhooks.policy import max_attempts, next_attempt_at, retry_after_seconds
from resolvers.webhooks.purge import delete_deliveries

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


Claimed = Lease


async def claim_due(services: Services, limit: int) -> list[Claimed]:
    """Lease up to `limit` due deliveries to this dispatcher, each with its webhook."""
    return await lease_due(services, limit)


def active_secrets(webhook: Target) -> list[str]:
    """The current secret, plus the previous one while its rotation grace lasts."""
    previous, expires = webhook.previous_secret, webhook.previous_secret_expires_at
    if previous and expires and expires > utcnow():
        return [webhook.secret, previous]
    return [webhook.secret]


async def attempt(sender: WebhookSender, delivery: Due, webhook: Target) -> Outcome:
    """Send the delivery once, signed for this attempt."""
    raw = delivery.payload.encode()
    headers = signed_headers(
        raw, delivery_id=delivery.id, event_type=delivery.event_type,
        secrets=active_secrets(webhook), custom=webhook.headers,
    )
    try:
        return Outcome(await sender.post(webhook.url, raw, headers), None)
    except SendFailed as failure:
        return Outcome(None, failure)


def sendable(claimed: Claimed) -> bool:
    """Whether the delivery's webhook still exists and is active (else `settle_unsendable`)."""
    return claimed.webhook is not None and claimed.webhook.active


async def settle_unsendable(claimed: Claimed) -> None:
    """Close a claimed delivery that is not `sendable`: deleted with its webhook, or failed when
    the webhook is disabled."""
    if claimed.webhook is None:
        await delete_deliveries(delivery_id=claimed.delivery.id)
    else:
        await WebhookDelivery.filter(id=claimed.delivery.id).update(
            status="failed", claimed_until=None, last_error="webhook is disabled"
        )


async def deliver(services: Services, sender: WebhookSender, claimed: Claimed) -> None:
    """One attempt for a claimed delivery, recorded with its consequences."""
    if not sendable(claimed):
        await settle_unsendable(claimed)
        return
    outcome = await attempt(sender, claimed.delivery, claimed.webhook)  # type: ignore[arg-type]
    await record_batch(services, [(claimed, outcome)])


async def record_batch(services: Services, results: list[tuple[Claimed, Outcome]]) -> None:
    """Log a batch of attempts and move their deliveries on. On PostgreSQL a batch of successes is
    one statement, which also ends their webhooks' runs of failures; failures (each may count
    towards disabling its webhook) add their updates in the same transaction. Only results that
    were recorded count for their webhook's health: a stale one (fenced off, see `record_moves`)
    tells nothing about the endpoint that the newer attempt did not. A success resets the run
    whatever it was when its delivery was leased (judged by that lease-time copy, successes leased
    while the run was 0 reset nothing, and alternate failures added up to a disabled webhook), and
    only the failures answered after a batch's last success of a webhook add to its run (a 410
    disables it whatever came after)."""
    now = utcnow()
    moves = [_move_of(claimed, outcome) for claimed, outcome in results]
    sqlite = services.settings.is_sqlite
    if not (sqlite or any(_failed(c, o) for c, o in results)):
        await record_moves(moves, now, flushed=False)  # all sent
        return
    async with atomic():
        moved = await (_record_with_orm(moves, now) if sqlite else record_moves(moves, now))
        recorded = [(c, o) for c, o in results if c.delivery.id in moved]
        last_success = {c.delivery.webhook_id: i for i, (c, o) in enumerate(recorded) if o.succeeded}
        if sqlite:  # PostgreSQL's statement did it
            await health.healed(set(last_success))
        for index, (claimed, outcome) in enumerate(recorded):  # in the order the answers came
            if _failed(claimed, outcome) and (index > last_success.get(claimed.delivery.webhook_id, -1)
                                              or outcome.status_code == health.GONE):
                await health.failed(services, claimed.webhook, outcome.status_code)  # type: ignore[arg-type]


def _failed(claimed: Claimed, outcome: Outcome) -> bool:
    """A failure of a webhook that still exists: it counts towards disabling the webhook."""
    return claimed.webhook is not None and not outcome.succeeded


def _move_of(claimed: Claimed, outcome: Outcome) -> Moved:
    number = claimed.delivery.attempts + 1
    state = _next_state(claimed.webhook, outcome, number)
    return Moved(claimed.delivery.id, number, state["status"], state["next_attempt_at"], outcome.status_code,
                 outcome.error, outcome.duration_ms, outcome.answer.excerpt if outcome.answer else None)


async def _record_with_orm(moves: list[Moved], now: datetime) -> set[str]:
    """The same as `leases.record_moves`, fenced the same way, through the ORM (SQLite)."""
    moved = []
    for m in moves:
        delivered = {"delivered_at": now} if m.status == "succeeded" else {}
        if await WebhookDelivery.filter(id=m.delivery_id, attempts=m.number - 1).update(
            status=m.status, attempts=m.number, claimed_until=None, last_status_code=m.status_code,
            last_error=m.error, next_attempt_at=m.next_attempt_at, **delivered,
        ):
            moved.append(m)
    await DeliveryAttempt.bulk_create([
        DeliveryAttempt(delivery_id=m.delivery_id, number=m.number, attempted_at=now, status_code=m.status_code,
                        duration_ms=m.duration_ms, error=m.error, response_excerpt=m.excerpt)
        for m in moved
    ])
    return {m.delivery_id for m in moved}


def _next_state(webhook: Target | None, outcome: Outcome, number: int) -> dict[str, Any]:
    """`status` and `next_attempt_at` after attempt `number`: done, dead (410 or a refused URL),
    failed (retries used up), or pending again after the backoff or the Retry-After asked."""
    if outcome.succeeded:
        return {"status": "succeeded", "next_attempt_at": None}
    permanent = outcome.status_code == health.GONE or (outcome.failure is not None and outcome.failure.permanent)
    if permanent:
        return {"status": "dead", "next_attempt_at": None}
    if webhook is None or number >= max_attempts(webhook.max_attempts):
        return {"status": "failed", "next_attempt_at": None}
    asked = None
    if outcome.answer is not None and outcome.answer.status in THROTTLED:
        asked = retry_after_seconds(outcome.answer.retry_after)
    return {"status": "pending", "next_attempt_at": next_attempt_at(number, webhook.backoff_ms, asked)}

