"""Endpoint health: a webhook that keeps failing (or answers 410) is disabled, and says so."""

from __future__ import annotations

from app.core.after_commit import atomic
from models.webhooks import Webhook
from resolvers.context import Services
from resolvers.events.outbox import emit
from resolvers.webhooks.leases import Target


async def disable(services: Services, webhook: Target, reason: str) -> None:
    """Disable once (a concurrent failure does not emit twice) and emit `webhook.disabled`."""
    async with atomic():
        changed = await Webhook.filter(id=webhook.id, active=True).update(active=False, disabled_reason=reason)
        if changed:
            data = {"webhookId": webhook.id, "name": webhook.name, "url": webhook.url, "reason": reason}
            await emit(services, webhook.organization_id, "webhook.disabled", data)
