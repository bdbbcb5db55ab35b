"""Endpoint health: a webhook that keeps failing (or answers 410) is disabled, and says so."""

from __future__ import annotations

from tortoise import connections

from app.core.after_commit import atomic
from models.webhooks import Webhook
from resolvers.audit import trail
from resolvers.context import Services
from resolvers.events.outbox import emit
from resolvers.webhooks.freshness import announce_change
from resolvers.webhooks.leases import Target

GONE = 410


async def failed(services: Services, webhook: Target, status_code: int | None) -> None:
    """One recorded failed attempt: a 410 disables the webhook at once; any other failure adds to
    its run of consecutive failures, which disables it at `webhook_disable_after_failures`."""
    if status_code == GONE:
        await _disable(services, webhook, "the endpoint answered 410 Gone")
        return
    failures = await _count_failure(webhook.id)
    limit = services.settings.webhook_disable_after_failures
    if failures is not None and failures >= limit:
        await _disable(services, webhook, f"{limit} consecutive failed attempts")


async def healed(webhook_ids: set[str]) -> None:
    """A recorded success ends each webhook's run of failures (SQLite; on PostgreSQL the record
    statement does it, resolvers/webhooks/leases.py)."""
    if webhook_ids:
        await Webhook.filter(id__in=webhook_ids, consecutive_failures__gt=0).update(consecutive_failures=0)


async def _disable(services: Services, webhook: Target, reason: str) -> None:
    """Disable once (a concurrent failure does not emit twice) and emit `webhook.disabled`."""
    async with atomic():
        changed = await Webhook.filter(id=webhook.id, active=True).update(active=False, disabled_reason=reason)
        if changed:
            announce_change(services, webhook.id)  # this and other dispatchers stop sending its queued deliveries
            await emit_disabled(services, webhook, reason)
            changes = {"before": {"active": True}, "after": {"active": False, "reason": reason}}
            await trail.record(trail.Actor.system(webhook.organization_id, "webhooks"), "webhook.disabled",
                               webhook.id, changes)


async def emit_disabled(services: Services, webhook: Target | Webhook, reason: str | None) -> None:
    """`webhook.disabled`, the same for a disable after failures and one by hand
    (resolvers/webhooks/webhooks.py), inside the caller's transaction."""
    data = {"webhookId": webhook.id, "name": webhook.name, "url": webhook.url, "reason": reason}
    await emit(services, webhook.organization_id, "webhook.disabled", data)


_COUNT_FAILURE = "UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = {p} " \
    "RETURNING consecutive_failures"


async def _count_failure(webhook_id: str) -> int | None:
    """Add one to the webhook's run of failures and return the new run (None: it was deleted).
    One statement, so two dispatchers failing at once each see their own count."""
    db = connections.get("default")
    placeholder = "$1" if db.capabilities.dialect == "postgres" else "?"
    rows = await db.execute_query_dict(_COUNT_FAILURE.format(p=placeholder), [webhook_id])
    return int(rows[0]["consecutive_failures"]) if rows else None
