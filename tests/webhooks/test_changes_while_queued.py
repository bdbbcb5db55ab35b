"""A webhook changed while its deliveries wait in a dispatcher's queue (leased ahead, up to eight
batches of `webhook_concurrency`) is sent them as it is now: nothing after a delete or a disable was
answered, and only to the new URL after an update. Before, queued deliveries kept the webhook as it
was at lease time: against a receiver taking a second an answer, a whole queue went out after the
delete. And a success ends the webhook's run of failures whatever the run was when it was leased:
alternate failures no longer add up to a disabled webhook."""

from __future__ import annotations

import asyncio
import time

import pytest

from models.webhooks import Webhook, WebhookDelivery
from tests.conftest import Tenant
from tests.webhooks.receiver import Reply, eventually, receiving
from tests.webhooks.test_delivery import create_hook, emit_events

SLOW = Reply(delay=1.0)  # each answer takes a second: the dispatcher's queue stays full
BURST = 150


async def _first_wave(receiver: object, hook: dict, tenant: Tenant) -> None:
    """A burst to the slow receiver, until its first requests are being answered."""
    await emit_events(tenant, ["action.approved"] * BURST)
    await eventually(lambda: len(receiver.requests) >= 10)  # type: ignore[attr-defined]


@pytest.mark.parametrize("change", ["delete", "disable"])
async def test_nothing_is_sent_once_a_delete_or_a_disable_was_answered(tenant: Tenant, change: str) -> None:
    async with receiving() as receiver:
        receiver.default = SLOW
        hook = await create_hook(tenant, receiver.url)
        await _first_wave(receiver, hook, tenant)
        async with tenant.client() as c:
            path = f"/api/v1/webhooks/{hook['id']}"
            answer = await (c.delete(path) if change == "delete" else c.put(path, json={"active": False}))
            assert answer.status_code == 200, answer.text
        answered = time.monotonic()
        await asyncio.sleep(2.5)  # two more rounds of answers: the queue would have gone out by now
    late = [r for r in receiver.requests if r.at > answered]
    assert late == [], f"{len(late)} deliveries sent after the {change} was answered"
    if change == "delete":
        assert not await WebhookDelivery.filter(webhook_id=hook["id"]).exists()
    else:
        await eventually(lambda: WebhookDelivery.filter(webhook_id=hook["id"],
                                                        last_error="webhook is disabled").exists())


async def test_an_updated_url_gets_every_delivery_sent_after_the_update_was_answered(tenant: Tenant) -> None:
    async with receiving() as old, receiving() as new:
        old.default = SLOW
        hook = await create_hook(tenant, old.url)
        await _first_wave(old, hook, tenant)
        async with tenant.client() as c:
            moved = await c.put(f"/api/v1/webhooks/{hook['id']}", json={"url": new.url})
            assert moved.status_code == 200, moved.text
        answered = time.monotonic()
        await eventually(lambda: len(old.requests) + len(new.requests) >= BURST, within=30)
    late = [r for r in old.requests if r.at > answered]
    assert late == [], f"{len(late)} deliveries sent to the old URL after the update was answered"
    assert len(new.requests) >= BURST - len(old.requests) > 0


async def test_alternate_failures_do_not_disable_a_webhook(tenant: Tenant) -> None:
    """40 deliveries at once, answered 500 and 200 in turn, no retries: never two failures in a row
    at the receiver, so the webhook must stay enabled (before: disabled for "20 consecutive failed
    attempts", the successes having been leased while its run was 0)."""
    async with receiving() as receiver:
        receiver.answer(*[500, 200] * 20)
        hook = await create_hook(tenant, receiver.url, retryPolicy={"maxAttempts": 1, "backoffMs": 1000})
        await emit_events(tenant, ["action.approved"] * 40)
        await eventually(lambda: len(receiver.requests) >= 40)

        async def settled() -> bool:
            return not await WebhookDelivery.filter(webhook_id=hook["id"], status="pending").exists()

        await eventually(settled)
    webhook = await Webhook.get(id=hook["id"])
    assert webhook.active and webhook.disabled_reason is None, (webhook.consecutive_failures, webhook.disabled_reason)
    assert webhook.consecutive_failures < 5, webhook.consecutive_failures
