"""Quota and idempotency of proposals under concurrency, on PostgreSQL."""

from __future__ import annotations

import asyncio

from models.events import Event
from models.governance import Action, QuotaUsage
from resolvers.governance.quota import current_month
from tests.conftest import MakeTenant, Tenant

BODY = {"type": "send_email", "actor": {"kind": "agent", "name": "bot"}}


async def test_free_plan_quota_is_exact_under_concurrency(make_tenant: MakeTenant) -> None:
    tenant = await make_tenant("small", "free")
    await QuotaUsage.create(organization_id=tenant.organization_id, month=current_month(), used=990)
    async with tenant.client() as c:
        answers = await asyncio.gather(*(c.post("/actions", json=BODY) for _ in range(50)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 10 and codes.count(402) == 40, codes
    assert {r.json()["error"] for r in answers if r.status_code == 402} == {"USAGE_LIMIT_EXCEEDED"}
    assert await Action.filter(organization_id=tenant.organization_id).count() == 10
    assert (await QuotaUsage.get(organization_id=tenant.organization_id)).used == 1000


async def test_enterprise_plan_is_unlimited(make_tenant: MakeTenant) -> None:
    tenant = await make_tenant("big", "enterprise")
    await QuotaUsage.create(organization_id=tenant.organization_id, month=current_month(), used=10_000_000)
    async with tenant.client() as c:
        assert (await c.post("/actions", json=BODY)).status_code == 201


async def test_idempotency_key_returns_the_original_under_concurrency(tenant: Tenant) -> None:
    async with tenant.client() as c:
        headers = {"Idempotency-Key": "retry-1"}
        answers = await asyncio.gather(*(c.post("/actions", json=BODY, headers=headers) for _ in range(20)))
        assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
        assert len({r.json()["actionId"] for r in answers}) == 1
        assert sum(r.status_code == 201 for r in answers) == 1
        other = await c.post("/actions", json={**BODY, "target": "x"}, headers=headers)
        assert other.status_code == 409 and other.json()["error"] == "CONFLICT"
        by_field = await c.post("/actions", json={**BODY, "idempotencyKey": "k2"})
        again = await c.post("/actions", json={**BODY, "idempotencyKey": "k2"})
        assert by_field.json()["actionId"] == again.json()["actionId"] and again.status_code == 200
        both = await c.post("/actions", json={**BODY, "idempotencyKey": "k2"}, headers={"Idempotency-Key": "k2"})
        assert both.status_code == 200 and both.json()["actionId"] == by_field.json()["actionId"]
        differ = await c.post("/actions", json={**BODY, "idempotencyKey": "k3"}, headers={"Idempotency-Key": "k4"})
        assert differ.status_code == 400 and "differ" in differ.json()["message"]  # one of them was picked silently
        sdk = await c.post("/actions", json={**BODY, "id": "client-1", "timestamp": "2024-01-15T10:30:00Z"})
        sdk_retry = await c.post("/actions", json={**BODY, "id": "client-1", "timestamp": "2024-01-15T10:30:05Z"})
        assert sdk.json()["actionId"] == sdk_retry.json()["actionId"]
    assert await Action.filter(organization_id=tenant.organization_id).count() == 3
    assert await Event.all().count() == 3
    assert (await QuotaUsage.get(organization_id=tenant.organization_id)).used == 3
