"""Webhook delivery end to end against a real local receiver, through the in-process workers."""

from __future__ import annotations

import json
import time

import pytest

from app.core.after_commit import atomic
from models.webhooks import DeliveryAttempt, Webhook, WebhookDelivery
from resolvers.events import outbox
from tests.conftest import Tenant
from tests.webhooks.receiver import Reply, eventually, receiving, verify_signature, verify_standard

ACTION_DATA = {
    "actionId": "act_abc123", "type": "send_email", "actor": {"kind": "agent", "name": "marketing-bot"},
    "params": {"subject": "Welcome!", "recipient_count": 1},
    "approvalUrl": "https://gatehouse.test/console/approve/act_abc123", "status": "approved",
}


async def emit_events(tenant: Tenant, types: list[str], data: dict | None = None) -> None:
    """Produce events the way governance does: outbox.emit inside atomic()."""
    from tests.webhooks.conftest import server_services

    async with atomic():
        for event_type in types:
            await outbox.emit(server_services(), tenant.organization_id, event_type, dict(data or ACTION_DATA))


async def create_hook(tenant: Tenant, url: str, **extra) -> dict:
    async with tenant.client() as c:
        response = await c.post("/api/v1/webhooks", json={"name": "hook", "url": url, "events": ["*"], **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def test_every_event_type_verifies_with_both_algorithms(tenant: Tenant) -> None:
    async with receiving() as receiver:
        hook = await create_hook(tenant, receiver.url, headers={"X-Custom-Header": "value"})
        types = [t for t in outbox.CATALOGUE if t != "webhook.test"]
        await emit_events(tenant, types)
        async with tenant.client() as c:
            assert (await c.post(f"/api/v1/webhooks/{hook['id']}/test")).status_code == 202
        await eventually(lambda: len(receiver.requests) >= len(outbox.CATALOGUE))
    seen = set()
    for request in receiver.requests:
        assert verify_signature(request.body, request.headers["X-Webhook-Signature"], hook["secret"])
        verify_standard(request, hook["secret"])
        body = request.json
        # compact, in the document's key order: a receiver that re-serialises the parsed body
        # (JSON.stringify(req.body)) before verifying still gets the signed bytes back
        assert json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() == request.body
        assert list(body)[:4] == ["id", "event", "timestamp", "data"]
        assert body["event"] == request.headers["X-Webhook-Event"]
        assert body["id"].startswith("evt_") and body["timestamp"].endswith("Z") and "data" in body
        assert request.headers["webhook-id"] == request.headers["X-Webhook-Delivery"]
        assert request.headers["X-Custom-Header"] == "value"
        assert request.headers["User-Agent"].startswith("Gatehouse/")
        if body["event"].startswith("action."):
            for name in ("actionId", "type", "actor", "params", "approvalUrl"):
                assert body[name] == ACTION_DATA[name]
        seen.add(body["event"])
    assert seen == set(outbox.CATALOGUE)
    assert len(receiver.unique_deliveries()) == len(outbox.CATALOGUE)


async def test_500_500_200_is_one_delivery_three_attempts_same_id(tenant: Tenant) -> None:
    async with receiving() as receiver:
        receiver.answer(500, 500, 200)
        hook = await create_hook(tenant, receiver.url, retryPolicy={"maxAttempts": 5, "backoffMs": 50})
        await emit_events(tenant, ["action.approved"])
        await eventually(lambda: len(receiver.requests) == 3)
    assert len({r.delivery_id for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    async with tenant.client() as c:
        await eventually(lambda: WebhookDelivery.filter(status="succeeded").exists())
        [delivery] = (await c.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
    assert delivery["id"] == receiver.requests[0].delivery_id
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3
    assert [a["statusCode"] for a in delivery["attemptLog"]] == [500, 500, 200]
    assert [a["attempt"] for a in delivery["attemptLog"]] == [1, 2, 3]
    assert delivery["attemptLog"][0]["error"] == "HTTP 500"
    assert delivery["attemptLog"][0]["responseExcerpt"] == "answer 500"
    assert all(a["durationMs"] >= 0 and a["attemptedAt"] for a in delivery["attemptLog"])


async def test_retries_stop_at_max_attempts_and_recover_resends(tenant: Tenant) -> None:
    async with receiving() as receiver:
        receiver.default = Reply(500)
        hook = await create_hook(tenant, receiver.url, retryPolicy={"maxAttempts": 2, "backoffMs": 20})
        since = time.time()
        await emit_events(tenant, ["workflow.failed", "workflow.completed"])
        await eventually(lambda: _count("failed", 2))
        assert len(receiver.requests) == 4
        receiver.default = Reply(200)
        async with tenant.client() as c:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since - 5))
            recovered = await c.post(f"/api/v1/webhooks/{hook['id']}/recover", json={"since": stamp})
            assert recovered.status_code == 202 and recovered.json() == {"requeued": 2}
            await eventually(lambda: _count("succeeded", 2))
            assert (await c.post(f"/api/v1/webhooks/{hook['id']}/recover", json={"since": "nope"})).status_code == 400
    assert len(receiver.unique_deliveries()) == 2 and len(receiver.requests) == 6


async def _count(status: str, expected: int) -> bool:
    return await WebhookDelivery.filter(status=status).count() == expected


async def test_redirect_is_a_failure_and_410_disables_at_once(tenant: Tenant) -> None:
    async with receiving() as receiver:
        receiver.answer(Reply(302, {"Location": receiver.url.replace("/hook", "/elsewhere")}), 410)
        hook = await create_hook(tenant, receiver.url, retryPolicy={"maxAttempts": 5, "backoffMs": 20})
        await emit_events(tenant, ["action.rejected"])
        await eventually(lambda: Webhook.filter(id=hook["id"], active=False).exists())
        assert len(receiver.requests) == 2  # the redirect was not followed
    delivery = await WebhookDelivery.get()
    attempts = await DeliveryAttempt.filter(delivery_id=delivery.id).order_by("number")
    assert [a.status_code for a in attempts] == [302, 410] and delivery.status == "dead"
    assert "redirects are not followed" in (attempts[0].error or "")
    async with tenant.client() as c:
        shown = (await c.get(f"/api/v1/webhooks/{hook['id']}")).json()
        assert shown["active"] is False and "410" in shown["disabledReason"]
        enabled = await c.post(f"/api/v1/webhooks/{hook['id']}/enable")
        assert enabled.status_code == 200 and enabled.json()["active"] is True
        assert enabled.json()["disabledReason"] is None
    from models.events import Event

    assert await Event.filter(type="webhook.disabled").count() == 1


async def test_retry_after_is_respected(tenant: Tenant) -> None:
    async with receiving() as receiver:
        receiver.answer(Reply(429, {"Retry-After": "2"}), 200)
        await create_hook(tenant, receiver.url, retryPolicy={"maxAttempts": 3, "backoffMs": 10})
        await emit_events(tenant, ["action.expired"])
        await eventually(lambda: len(receiver.requests) == 2)
    first, second = receiver.requests
    assert second.at - first.at >= 1.9
    assert first.delivery_id == second.delivery_id


async def test_an_answer_that_cannot_be_stored_as_it_came_is_still_recorded(tenant: Tenant) -> None:
    """A Retry-After in digits that are not ASCII ("²") is unreadable, so the backoff applies, and
    an answer holding NUL (which PostgreSQL refuses in text) is recorded with U+FFFD in its place:
    the delivery moves on instead of failing to record, staying pending and being resent forever."""
    async with receiving() as receiver:
        receiver.answer(Reply(429, {"Retry-After": "\u00b2"}), Reply(200, body=b"ok\x00done"))
        await create_hook(tenant, receiver.url, retryPolicy={"maxAttempts": 3, "backoffMs": 10})
        await emit_events(tenant, ["action.expired"])
        await eventually(lambda: _count("succeeded", 1))
    attempts = await DeliveryAttempt.all().order_by("number")
    assert [(a.number, a.status_code) for a in attempts] == [(1, 429), (2, 200)]
    assert attempts[1].response_excerpt == "ok\ufffddone"
    assert len(receiver.requests) == 2 and len(receiver.unique_deliveries()) == 1


async def test_consecutive_failures_disable_the_webhook_and_emit(tenant: Tenant, settings) -> None:
    limit = settings.webhook_disable_after_failures
    async with receiving() as receiver:
        receiver.default = Reply(500)
        hook = await create_hook(tenant, receiver.url, events=["action.*"],
                                 retryPolicy={"maxAttempts": 1, "backoffMs": 10})
        await emit_events(tenant, ["action.approved"] * (limit + 5))
        await eventually(lambda: Webhook.filter(id=hook["id"], active=False).exists())
    from models.events import Event

    [event] = await Event.filter(type="webhook.disabled")
    assert event.data["webhookId"] == hook["id"] and str(limit) in event.data["reason"]
    assert len(receiver.requests) >= limit  # not disabled before `limit` failures


async def test_rotation_signs_with_both_secrets_during_grace(tenant: Tenant) -> None:
    async with receiving() as receiver:
        hook = await create_hook(tenant, receiver.url)
        async with tenant.client() as c:
            rotated = await c.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
            assert rotated.status_code == 200
            new_secret = rotated.json()["secret"]
            assert new_secret != hook["secret"]
            listed = await c.get("/api/v1/webhooks")
            assert new_secret not in listed.text and hook["secret"] not in listed.text
            await c.post(f"/api/v1/webhooks/{hook['id']}/test")
        await eventually(lambda: receiver.requests)
    [request] = receiver.requests
    verify_standard(request, hook["secret"])
    verify_standard(request, new_secret)
    assert verify_signature(request.body, request.headers["X-Webhook-Signature"], new_secret)
    assert len(request.headers["webhook-signature"].split(" ")) == 2


async def test_patterns_select_events_and_inactive_hooks_get_nothing(tenant: Tenant) -> None:
    async with receiving() as receiver:
        await create_hook(tenant, receiver.url, events=["workflow.completed"])
        inactive = await create_hook(tenant, receiver.url, events=["action.*"], active=False)
        await emit_events(tenant, ["action.approved", "workflow.completed", "workflow.failed"])
        await eventually(lambda: receiver.requests)
        await eventually(lambda: _count("pending", 0))
    assert [r.json["event"] for r in receiver.requests] == ["workflow.completed"]
    assert not await WebhookDelivery.filter(webhook_id=inactive["id"]).exists()  # none made, not just unsent


@pytest.mark.parametrize("status", [200, 204])
async def test_any_2xx_is_success(tenant: Tenant, status: int) -> None:
    async with receiving() as receiver:
        receiver.default = Reply(status)
        await create_hook(tenant, receiver.url)
        await emit_events(tenant, ["workflow.started"])
        await eventually(lambda: _count("succeeded", 1))


async def test_governance_decisions_arrive_as_signed_action_events(tenant: Tenant) -> None:
    """Real actions through the API: document 001's fields at the top level of each body."""
    email = {"type": "send_email", "actor": {"kind": "agent", "name": "marketing-bot"},
             "target": "user@example.com", "params": {"subject": "Welcome!", "recipient_count": 1}}
    policy = {"name": "review", "mode": "enforce", "status": "active",
              "rules": [{"when": {"actionType": "send_email"}, "require": ["content_review"]}]}
    async with receiving() as receiver:
        hook = await create_hook(tenant, receiver.url, events=["action.*"])
        async with tenant.client() as c:
            assert (await c.post("/policy", json=policy)).status_code == 201
            proposed = (await c.post("/actions", json=email)).json()
            rejected = await c.post(f"/approvals/{proposed['approvalId']}/reject", json={"reason": "no"})
            assert rejected.status_code == 200, rejected.text
        await eventually(lambda: len(receiver.requests) == 2)
    assert sorted(r.json["event"] for r in receiver.requests) == ["action.pending_approval", "action.rejected"]
    for request in receiver.requests:
        body = request.json
        assert verify_signature(request.body, request.headers["X-Webhook-Signature"], hook["secret"])
        verify_standard(request, hook["secret"])
        assert body["actionId"] == proposed["actionId"] and body["type"] == "send_email"
        assert body["actor"]["name"] == "marketing-bot" and body["params"] == email["params"]
        assert body["approvalUrl"] == f"https://gatehouse.test/console/approve/{proposed['actionId']}"
        assert body["data"]["actionId"] == proposed["actionId"]


async def test_deleting_a_webhook_mid_send_does_not_lose_other_records(tenant: Tenant) -> None:
    async with receiving() as receiver:
        receiver.default = Reply(200, delay=0.5)
        doomed = await create_hook(tenant, receiver.url, events=["workflow.started"])
        kept = await create_hook(tenant, receiver.url, events=["workflow.started"])
        await emit_events(tenant, ["workflow.started"])
        await eventually(lambda: len(receiver.requests) == 2)
        async with tenant.client() as c:
            assert (await c.delete(f"/api/v1/webhooks/{doomed['id']}")).status_code == 200
        await eventually(lambda: _count("succeeded", 1))
    [delivery] = await WebhookDelivery.all()
    assert delivery.webhook_id == kept["id"] and await DeliveryAttempt.filter(delivery_id=delivery.id).count() == 1
