"""A webhook's delivery log, and sending again: one delivery (redeliver) or every failure since a
time (recover, after an outage on the receiver's side). Both keep the delivery id, and neither
touches a delivery a dispatcher holds a live lease on (it is being sent right now): clearing that
lease let a second dispatcher send it concurrently, and the two results raced (models.leases)."""

from __future__ import annotations

from datetime import datetime

from app.core.after_commit import atomic
from app.core.clock import in_utc, utcnow
from models.leases import lease_is_free
from models.webhooks import DELIVERY_STATUSES, WebhookDelivery
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid, NotFound
from resolvers.lookup import lookup_id
from resolvers.pagination import Page, paginate
from resolvers.webhooks.fanout import wake_dispatchers
from resolvers.webhooks.webhooks import find

RESENDABLE = ("failed", "dead")


async def list_deliveries(
    ctx: Context, webhook_id: str, *, status: str | None = None, limit: int | None = None, cursor: str | None = None
) -> Page[WebhookDelivery]:
    """Newest first, each with its attempts loaded (`delivery.attempt_log`)."""
    webhook = await find(ctx, webhook_id)
    if status is not None and status not in DELIVERY_STATUSES:
        raise Invalid(f"status must be one of {', '.join(DELIVERY_STATUSES)}")
    query = WebhookDelivery.filter(webhook_id=webhook.id, organization_id=ctx.organization_id)
    page = await paginate(query.filter(status=status) if status else query, limit, cursor)
    if page.items:
        await WebhookDelivery.fetch_for_list(page.items, "attempt_log")
    return page


async def get_delivery(ctx: Context, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    webhook = await find(ctx, webhook_id)
    delivery = await WebhookDelivery.get_or_none(
        id=lookup_id(delivery_id, "delivery"), webhook_id=webhook.id, organization_id=ctx.organization_id
    )
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found")
    await delivery.fetch_related("attempt_log")
    return delivery


async def _requeue(ctx: Context, **filters: object) -> int:
    """Make the matching deliveries due now; one a dispatcher holds (a live lease) is left alone, in
    the same statement, so a lease taken between a read and this write is not cleared either."""
    now = utcnow()
    async with atomic():
        free = WebhookDelivery.filter(lease_is_free(now), organization_id=ctx.organization_id, **filters)
        count = await free.update(status="pending", next_attempt_at=now, claimed_until=None)
        if count:
            wake_dispatchers(ctx.services)
    return count


async def redeliver(ctx: Context, webhook_id: str, delivery_id: str) -> WebhookDelivery:
    """Send this delivery again now (one more attempt, same delivery id), whatever its state, unless
    a dispatcher is sending it right now (409: its attempt is recorded, then it may be redelivered).
    The answer is the delivery as requeued, read before the dispatchers are woken (after the
    commit): read after, it raced a dispatcher that had already sent it again."""
    webhook = await find(ctx, webhook_id, "webhooks:write")
    if not webhook.active:
        raise Conflict(f"webhook {webhook_id} is disabled; enable it first")
    delivery = await get_delivery(ctx, webhook_id, delivery_id)
    async with atomic():
        if not await _requeue(ctx, id=delivery.id):
            raise Conflict(f"delivery {delivery_id} is being sent right now; redeliver it once that attempt "
                           "is recorded")
        return await get_delivery(ctx, webhook_id, delivery_id)


async def recover(ctx: Context, webhook_id: str, since: datetime) -> int:
    """Queue every failed or dead delivery created since `since` again (none a dispatcher holds);
    returns how many."""
    webhook = await find(ctx, webhook_id, "webhooks:write")
    if not webhook.active:
        raise Conflict(f"webhook {webhook_id} is disabled; enable it first")
    try:
        since = in_utc(since)
    except ValueError as exc:
        raise Invalid(f"since: {exc}") from None
    if since > utcnow():
        raise Invalid("since must not be in the future")
    return await _requeue(ctx, webhook_id=webhook.id, status__in=RESENDABLE, created_at__gte=since)
