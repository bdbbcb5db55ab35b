"""Webhook REST API: CRUD, validation, the URL guard, tenancy of webhooks and deliveries."""

from __future__ import annotations

import pytest

from app.core.bus import Bus
from app.core.senders import OutgoingClient, SendFailed, WebhookSender
from app.core.settings import load_settings
from models.webhooks import Webhook, WebhookDelivery
from resolvers.context import Context, Services
from resolvers.errors import Invalid
from resolvers.webhooks import webhooks
from resolvers.webhooks.webhooks import WebhookSpec
from tests.conftest import DATABASE_URL, Tenant
from tests.webhooks.receiver import eventually, receiving

REFUSED = ["http://169.254.169.254/latest/meta-data", "http://10.0.0.1/hook", "http://localhost:8080/hook"]
METADATA = ["http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/latest", "http://[fe80::1]/x"]


def strict_context(tenant: Tenant) -> Context:
    """A caller served by a deployment with GATEHOUSE_ALLOW_PRIVATE_TARGETS off (the default)."""
    settings = load_settings(database_url=DATABASE_URL, allow_private_targets=False)
    services = Services(settings=settings, bus=Bus(), http=OutgoingClient(allow_private=False))
    return Context(tenant.organization_id, "pro", None, frozenset({"admin"}), "req_test", services)


@pytest.mark.parametrize("url", REFUSED)
async def test_internal_urls_are_refused_at_creation_unless_allowed(tenant: Tenant, url: str) -> None:
    with pytest.raises(Invalid, match="Refusing outgoing request"):
        await webhooks.create(strict_context(tenant), WebhookSpec(name="x", url=url, events=["*"]))
    assert not await Webhook.exists()
    async with tenant.client() as c:  # the test server allows private targets, but never metadata
        created = await c.post("/api/v1/webhooks", json={"name": "x", "url": url, "events": ["*"]})
    assert created.status_code == (400 if url in METADATA else 201), created.text


@pytest.mark.parametrize("url", METADATA)
async def test_metadata_addresses_are_refused_even_when_private_targets_are_allowed(tenant: Tenant, url: str) -> None:
    async with tenant.client() as c:
        created = await c.post("/api/v1/webhooks", json={"name": "x", "url": url, "events": ["*"]})
    assert created.status_code == 400 and "Refusing outgoing request" in created.json()["message"]
    assert not await Webhook.exists()
    sender = WebhookSender(allow_private=True, timeout=2, max_connections=2)
    try:
        with pytest.raises(SendFailed, match="Refusing outgoing request"):
            await sender.post(url, b"{}", {})
    finally:
        await sender.close()


@pytest.mark.parametrize("url", REFUSED)
async def test_internal_urls_are_refused_at_send_time(url: str) -> None:
    sender = WebhookSender(allow_private=False, timeout=2, max_connections=2)
    try:
        with pytest.raises(SendFailed, match="Refusing outgoing request") as failed:
            await sender.post(url, b"{}", {})
        assert failed.value.permanent
    finally:
        await sender.close()


async def test_kept_url_verdicts_still_refuse_and_hosts_are_still_resolved_per_send() -> None:
    """The syntax verdict is kept per URL: a refused URL stays refused on every send, and an
    accepted host name is still resolved and judged (localhost -> loopback) each time."""
    sender = WebhookSender(allow_private=False, timeout=2, max_connections=2)
    try:
        for url in ["http://10.0.0.1/hook", "http://10.0.0.1/hook", "http://localhost:9/x", "http://localhost:9/x"]:
            with pytest.raises(SendFailed, match="Refusing outgoing request") as failed:
                await sender.post(url, b"{}", {})
            assert failed.value.permanent
    finally:
        await sender.close()


async def test_send_time_refusal_kills_the_delivery_without_a_request(tenant: Tenant) -> None:
    """A webhook created while its host was public, whose name now resolves to loopback."""
    from resolvers.webhooks.dispatch import Claimed, deliver

    async with receiving() as receiver:
        url = receiver.url.replace("127.0.0.1", "localhost")
        hook = await Webhook.create(id="wh_strict", organization_id=tenant.organization_id, name="x", url=url,
                                    events=["*"], secret="whsec_" + "A" * 43 + "=")
        delivery = await WebhookDelivery.create(id="dlv_strict", organization_id=tenant.organization_id,
                                                webhook_id=hook.id, event_id="evt_x", event_type="webhook.test",
                                                payload='{"id": "evt_x"}', status="pending")
        ctx = strict_context(tenant)
        sender = WebhookSender(allow_private=False, timeout=2, max_connections=2)
        try:
            await deliver(ctx.services, sender, Claimed(delivery, hook))
        finally:
            await sender.close()
        assert receiver.requests == []
    await delivery.refresh_from_db()
    assert delivery.status == "dead" and "loopback" in (delivery.last_error or "")


async def test_crud_round_trip_never_shows_the_secret_again(tenant: Tenant) -> None:
    body = {"name": "Workflow Completed Hook", "url": "https://example.com/webhook",
            "events": ["workflow.completed", "workflow.failed"], "headers": {"X-Custom-Header": "value"},
            "retryPolicy": {"maxAttempts": 3, "backoffMs": 1000}}
    async with tenant.client() as c:
        created = await c.post("/api/v1/webhooks", json=body)
        assert created.status_code == 201, created.text
        hook = created.json()
        assert hook["secret"].startswith("whsec_") and hook["id"].startswith("wh_")
        assert hook["retryPolicy"] == body["retryPolicy"] and hook["active"] is True
        got = (await c.get(f"/api/v1/webhooks/{hook['id']}")).json()
        assert "secret" not in got and hook["secret"] not in (await c.get("/api/v1/webhooks")).text
        updated = await c.put(f"/api/v1/webhooks/{hook['id']}", json={"events": ["action.*"], "retryPolicy": None})
        assert updated.status_code == 200, updated.text
        assert updated.json()["events"] == ["action.*"] and updated.json()["retryPolicy"] is None
        assert updated.json()["name"] == body["name"]
        assert (await c.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 200
        assert (await c.get(f"/api/v1/webhooks/{hook['id']}")).status_code == 404


async def test_bad_webhook_bodies_are_400_and_change_nothing(tenant: Tenant) -> None:
    good = {"name": "x", "url": "https://example.com/h", "events": ["*"]}
    bad = [
        {**good, "url": "ftp://example.com/x"}, {**good, "url": "not a url"}, {**good, "url": "http://u:p@example.com"},
        {**good, "events": []}, {**good, "events": ["nothing.here"]}, {**good, "events": "action.*"},
        {**good, "headers": {"X-Webhook-Signature": "forged"}}, {**good, "headers": {"Bad Name": "x"}},
        {**good, "headers": {"X-A": "line\r\nbreak"}}, {**good, "headers": {"X-A": "caf\u00e9"}},
        {**good, "retryPolicy": {"maxAttempts": 0, "backoffMs": 10}},
        {**good, "retryPolicy": {"maxAttempts": 3}}, {**good, "name": ""}, {**good, "colour": "red"},
        {"url": "https://example.com/h", "events": ["*"]}, {**good, "active": "maybe"},
    ]
    async with tenant.client() as c:
        for body in bad:
            response = await c.post("/api/v1/webhooks", json=body)
            assert response.status_code == 400, (body, response.text)
            assert set(response.json()) == {"error", "message"}
        hook = (await c.post("/api/v1/webhooks", json=good)).json()
        for body in ({"name": None}, {"events": ["nope"]}, {"url": "gopher://x"}):
            assert (await c.put(f"/api/v1/webhooks/{hook['id']}", json=body)).status_code == 400
        assert (await c.get(f"/api/v1/webhooks/{hook['id']}")).json()["events"] == ["*"]
        assert (await c.post(f"/api/v1/webhooks/{hook['id']}/recover", json={})).status_code == 400
        for since in ("2999-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"):  # the future; no such instant in UTC
            assert (await c.post(f"/api/v1/webhooks/{hook['id']}/recover", json={"since": since})).status_code == 400
    by_graphql = await tenant.graphql('mutation($id: ID!) { recoverWebhook(id: $id, since: '
                                      '"0001-01-01T00:00:00+01:00") }', {"id": hook["id"]})
    assert by_graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", by_graphql
    assert await Webhook.all().count() == 1


async def test_other_organization_cannot_see_or_redeliver(tenant: Tenant, other_tenant: Tenant) -> None:
    async with receiving() as receiver:
        async with tenant.client() as c:
            hook = (await c.post("/api/v1/webhooks", json={"name": "a", "url": receiver.url, "events": ["*"]})).json()
            await c.post(f"/api/v1/webhooks/{hook['id']}/test")
            await eventually(lambda: receiver.requests)
            [delivery] = (await c.get(f"/api/v1/webhooks/{hook['id']}/deliveries")).json()
        base = f"/api/v1/webhooks/{hook['id']}"
        async with other_tenant.client() as c:
            for method, path in [("GET", base), ("GET", f"{base}/deliveries"), ("PUT", base),
                                 ("POST", f"{base}/deliveries/{delivery['id']}/redeliver"),
                                 ("POST", f"{base}/test"), ("POST", f"{base}/rotate-secret"),
                                 ("POST", f"{base}/enable"), ("DELETE", base)]:
                response = await c.request(method, path, json={} if method == "PUT" else None)
                assert response.status_code == 404, (method, path, response.text)
            assert (await c.get("/api/v1/webhooks")).json() == []
            theirs = (await c.post("/api/v1/webhooks", json={"name": "b", "url": receiver.url, "events": ["*"]})).json()
            response = await c.post(f"/api/v1/webhooks/{theirs['id']}/deliveries/{delivery['id']}/redeliver")
            assert response.status_code == 404
        assert len(receiver.requests) == 1
        async with tenant.client() as c:
            again = await c.post(f"{base}/deliveries/{delivery['id']}/redeliver")
            assert again.status_code == 202 and again.json()["id"] == delivery["id"]
            await eventually(lambda: len(receiver.requests) == 2)
    assert receiver.requests[0].delivery_id == receiver.requests[1].delivery_id


async def test_read_scope_cannot_write(tenant: Tenant) -> None:
    async with tenant.client() as c:
        key = (await c.post("/api/v1/api-keys", json={"name": "r", "scopes": ["webhooks:read"]})).json()["key"]
        c.headers["Authorization"] = f"Bearer {key}"
        assert (await c.get("/api/v1/webhooks")).status_code == 200
        denied = await c.post("/api/v1/webhooks", json={"name": "x", "url": "https://example.com", "events": ["*"]})
        assert denied.status_code == 403


async def test_testing_a_disabled_webhook_is_409_at_both_doors_and_documented(tenant: Tenant) -> None:
    """POST .../test on a disabled webhook answers 409 CONFLICT (as redeliver and recover do), and
    the OpenAPI document lists that 409 for it, so generated clients know the answer."""
    async with tenant.client() as c:
        hook = (await c.post("/api/v1/webhooks", json={"name": "off", "url": "https://example.com/h",
                                                       "events": ["*"], "active": False})).json()
        refused = await c.post(f"/api/v1/webhooks/{hook['id']}/test")
        assert refused.status_code == 409 and refused.json()["error"] == "CONFLICT", refused.text
        doc = (await c.get("/api/v1/openapi")).json()
    assert "409" in doc["paths"]["/api/v1/webhooks/{id}/test"]["post"]["responses"]
    by_graphql = await tenant.graphql("mutation($id: ID!) { testWebhook(id: $id) { id } }", {"id": hook["id"]})
    assert by_graphql["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert not await WebhookDelivery.exists()


async def test_a_changed_header_value_is_in_the_audit_trail_without_the_value(tenant: Tenant) -> None:
    """The trail holds header names only; a new value under the same name used to read as an empty
    change. Now the entry names the header whose value changed, never the value."""
    async with tenant.client() as c:
        created = await c.post("/api/v1/webhooks", json={"name": "h", "url": "https://example.com/hook",
                                                         "events": ["*"], "headers": {"Authorization": "Bearer old-1"}})
        assert created.status_code == 201, created.text
        hook = created.json()["id"]
        updated = await c.put(f"/api/v1/webhooks/{hook}", json={"headers": {"Authorization": "Bearer new-2"}})
        assert updated.status_code == 200, updated.text
        entries = (await c.get("/api/v1/audit", params={"resource": hook, "type": "webhook.updated"})).json()
    [entry] = entries
    assert entry["changes"]["after"] == {"headerValuesChanged": ["Authorization"]}, entry["changes"]
    assert "Bearer" not in str(entry)


async def test_transport_headers_and_overlong_event_patterns_are_refused_at_both_doors(tenant: Tenant) -> None:
    """`Expect: 100-continue` made each delivery wait for an interim answer, `Content-Encoding: gzip`
    told receivers the signed JSON was compressed, and a 5,000-character `*` pattern was stored: each
    was accepted. Now a 400 naming the field, and nothing stored."""
    good = {"name": "x", "url": "https://example.com/h", "events": ["*"]}
    refused = [{**good, "headers": {name: value}} for name, value in (
        ("Expect", "100-continue"), ("Content-Encoding", "gzip"), ("Upgrade", "h2c"), ("TE", "trailers"),
        ("Trailer", "X-A"), ("Keep-Alive", "timeout=5"), ("Proxy-Authorization", "Basic eA=="))]
    refused += [{**good, "events": ["*" * 5000]}, {**good, "events": [7]}, {**good, "events": [""]}]
    async with tenant.client() as c:
        for body in refused:
            response = await c.post("/api/v1/webhooks", json=body)
            assert response.status_code == 400 and response.json()["error"] == "VALIDATION_ERROR", (body, response.text)
    mutation = "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }"
    for body in (refused[0], refused[-3]):
        answer = await tenant.graphql(mutation, {"i": body})
        assert answer["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", answer
    assert not await Webhook.filter(organization_id=tenant.organization_id).exists()
