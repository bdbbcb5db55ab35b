"""Webhooks: create, list, get, update, delete, rotate the secret, re-enable, send a test event.

The signing secret is generated here, returned once (at creation and at rotation) and never again.
It is stored as is, because signing needs it in clear.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.core.after_commit import atomic
from app.core.clock import isoformat_z, utcnow
from app.core.crypto import new_webhook_secret
from app.core.ids import new_id
from models.webhooks import Webhook, WebhookDelivery
from resolvers.access import key_denial, require
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid
from resolvers.events.outbox import emit
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_name
from resolvers.webhooks import health, validation
from resolvers.webhooks.fanout import delivery_for, wake_dispatchers
from resolvers.webhooks.freshness import announce_change
from resolvers.webhooks.purge import delete_deliveries

UNSET: object = object()


@dataclass(slots=True)
class WebhookSpec:
    """What a client may set on a webhook; for an update, fields left UNSET stay as they are."""

    name: object = UNSET
    url: object = UNSET
    events: object = UNSET
    headers: object = UNSET
    max_attempts: object = UNSET
    backoff_ms: object = UNSET
    active: object = UNSET


@dataclass(slots=True)
class WithSecret:
    """A webhook row plus its secret, which exists only in this object."""

    webhook: Webhook
    secret: str


async def _checked(ctx: Context, spec: WebhookSpec) -> dict[str, object]:
    """The spec's set fields, validated, as column values."""
    for name in ("name", "url", "events", "active"):
        if getattr(spec, name) is None:
            raise Invalid(f"{name} cannot be null")
    if spec.headers is not UNSET and spec.headers is not None and not isinstance(spec.headers, dict):
        raise Invalid("headers must be an object of strings")
    values: dict[str, object] = {}
    if spec.name is not UNSET:
        values["name"] = check_name(str(spec.name))
    if spec.url is not UNSET:
        values["url"] = await validation.check_url(str(spec.url), ctx.settings)
    if spec.events is not UNSET:
        values["events"] = validation.check_events(list(spec.events))  # type: ignore[call-overload]
    if spec.headers is not UNSET:
        values["headers"] = validation.check_headers(dict(spec.headers or {}))  # type: ignore[call-overload]
    for name in ("max_attempts", "backoff_ms", "active"):
        if getattr(spec, name) is not UNSET:
            values[name] = getattr(spec, name)
    validation.check_retry_policy(values.get("max_attempts"), values.get("backoff_ms"))  # type: ignore[arg-type]
    return values


async def create(ctx: Context, spec: WebhookSpec) -> WithSecret:
    """Create a webhook (scope webhooks:write); the answer carries the secret, once."""
    require(ctx, "webhooks:write")
    values = await _checked(ctx, spec)
    secret = new_webhook_secret()
    webhook = Webhook(id=new_id("wh"), organization_id=ctx.organization_id, secret=secret)
    webhook.update_from_dict(values)
    async with atomic():
        await webhook.save()
        await trail.record(ctx, "webhook.created", webhook.id, trail.created(_audited(webhook)))
    return WithSecret(webhook, secret)


HIDDEN_HEADER_VALUE = "********"


def as_seen_by(ctx: Context, webhook: Webhook) -> Webhook:
    """The webhook as the caller may read it: custom header values often carry the receiver's own
    credentials (an `Authorization` header), so only keys that may change the webhook
    (`webhooks:write`) read them; a read-only key sees each header's name with its value hidden.
    A copy: the row itself is left as stored."""
    if not webhook.headers or key_denial(ctx.scopes, "webhooks:write", bound=ctx.agent_id is not None) is None:
        return webhook
    shown = copy.copy(webhook)
    shown.headers = dict.fromkeys(webhook.headers, HIDDEN_HEADER_VALUE)
    return shown


async def list_webhooks(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[Webhook]:
    require(ctx, "webhooks:read")
    page = await paginate(Webhook.filter(organization_id=ctx.organization_id), limit, cursor)
    page.items = [as_seen_by(ctx, webhook) for webhook in page.items]
    return page


async def get(ctx: Context, webhook_id: str) -> Webhook:
    """One webhook, as the caller may read it (`as_seen_by`)."""
    return as_seen_by(ctx, await find(ctx, webhook_id))


async def find(ctx: Context, webhook_id: str, scope: str = "webhooks:read") -> Webhook:
    """The caller's webhook; another organization's is NotFound, like an absent one."""
    require(ctx, scope)
    return await owned(Webhook, ctx, webhook_id, "webhook")


async def update(ctx: Context, webhook_id: str, spec: WebhookSpec) -> Webhook:
    """Change the fields given; turning `active` on also clears the failure run and the reason it
    was disabled. Turning it off says who did (`disabledReason`) and, like a disable after failures,
    emits `webhook.disabled` and is audited as such: once, whichever disable lands first."""
    webhook = await find(ctx, webhook_id, "webhooks:write")
    values = await _checked(ctx, spec)
    enabling = values.get("active") is True and not webhook.active
    disabling = values.get("active") is False and webhook.active
    if enabling:
        values.update(disabled_reason=None, consecutive_failures=0)
    elif disabling:
        values["disabled_reason"] = f"disabled by API key {ctx.key_id}" if ctx.key_id else "disabled by hand"
    before, old_headers = _audited(webhook), dict(webhook.headers or {})
    webhook.update_from_dict(values)
    changes = trail.diff(before, _audited(webhook))
    if "headers" in values and (rewritten := _rewritten_headers(old_headers, dict(webhook.headers or {}))):
        changes["after"]["headerValuesChanged"] = rewritten
    async with atomic():
        if disabling and not await _switch_off(webhook):  # disabled meanwhile: that disable's reason stands
            values = {k: v for k, v in values.items() if k not in ("active", "disabled_reason")}
            disabling = False
            changes = trail.diff({**before, "active": False}, _audited(webhook))
        # only the columns given: a concurrent secret rotation or disable must not be written back
        await webhook.save(update_fields=[*values, "updated_at"])
        announce_change(ctx.services, webhook.id)
        if disabling:
            await health.emit_disabled(ctx.services, webhook, webhook.disabled_reason)
        kind = "webhook.enabled" if enabling else "webhook.disabled" if disabling else "webhook.updated"
        await trail.record(ctx, kind, webhook.id, changes)
    return webhook


async def _switch_off(webhook: Webhook) -> bool:
    """Mark the webhook inactive unless it already is (a disable after failures may have landed
    since it was read); whether this call did."""
    changed = await Webhook.filter(id=webhook.id, active=True).update(
        active=False, disabled_reason=webhook.disabled_reason)
    if not changed:
        webhook.active = False
        row = await Webhook.filter(id=webhook.id).first().values("disabled_reason")
        webhook.disabled_reason = row["disabled_reason"] if row else None
    return bool(changed)


def _rewritten_headers(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The headers kept by name whose value changed. The trail holds header names only (a value may
    be a credential), so without these a changed `Authorization` read as no change at all."""
    return sorted(name for name in before.keys() & after.keys() if before[name] != after[name])


async def delete(ctx: Context, webhook_id: str) -> Webhook:
    """Delete the webhook and its delivery log (by hand: PostgreSQL keeps no foreign keys on the
    log, migrations 0019 and 0022)."""
    webhook = await find(ctx, webhook_id, "webhooks:write")
    async with atomic():
        await delete_deliveries(webhook_id=webhook.id)
        await webhook.delete()
        announce_change(ctx.services, webhook.id)
        await trail.record(ctx, "webhook.deleted", webhook.id, trail.deleted(_audited(webhook)))
    return webhook


async def enable(ctx: Context, webhook_id: str) -> Webhook:
    """Re-enable a webhook that was disabled (by hand, by failures or by a 410)."""
    return await update(ctx, webhook_id, WebhookSpec(active=True))


async def rotate_secret(ctx: Context, webhook_id: str) -> WithSecret:
    """A new secret; the old one still signs (as a second signature) for the grace period.

    The row is read locked (FOR UPDATE): two rotations at once both read the same current secret
    unlocked and both kept it as the previous one, so one answer's secret never signed anything."""
    require(ctx, "webhooks:write")
    secret = new_webhook_secret()
    grace = timedelta(hours=ctx.settings.webhook_secret_grace_hours)
    async with atomic() as conn:
        webhook = await owned(Webhook, ctx, webhook_id, "webhook", conn=conn, lock=True)
        webhook.previous_secret, webhook.previous_secret_expires_at = webhook.secret, utcnow() + grace
        webhook.secret = secret
        await webhook.save(using_db=conn,
                           update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
        announce_change(ctx.services, webhook.id)
        expires = {"previousSecretExpiresAt": webhook.previous_secret_expires_at}
        await trail.record(ctx, "webhook.secret_rotated", webhook.id, trail.created(expires), conn)  # never a secret
    return WithSecret(webhook, secret)


def _audited(webhook: Webhook) -> dict[str, Any]:
    """What the audit trail compares: header names only (their values may be credentials), no secret."""
    return {"name": webhook.name, "url": webhook.url, "events": webhook.events,
            "headers": sorted(webhook.headers or {}), "maxAttempts": webhook.max_attempts,
            "backoffMs": webhook.backoff_ms, "active": webhook.active}


async def send_test(ctx: Context, webhook_id: str) -> WebhookDelivery:
    """Emit a `webhook.test` event addressed to this webhook only, and queue its delivery."""
    webhook = await find(ctx, webhook_id, "webhooks:write")
    if not webhook.active:
        raise Conflict(f"webhook {webhook_id} is disabled; enable it first")
    async with atomic():
        data = {"webhookId": webhook.id, "message": "Test event from Gatehouse", "sentAt": isoformat_z(utcnow())}
        event = await emit(ctx.services, ctx.organization_id, "webhook.test", data)
        delivery = delivery_for(webhook, event)
        await delivery.save()
        wake_dispatchers(ctx.services)
    return delivery
