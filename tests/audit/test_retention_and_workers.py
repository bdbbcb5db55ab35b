"""Retention keeps the chain verifiable from its anchor; the workers' own changes (expiry, a
workflow's end) are recorded as `system:<job>`."""

from __future__ import annotations

import asyncio

from app.core.clock import parse_timestamp
from app.core.settings import Settings
from resolvers.audit.retention import trim_before, trim_expired
from tests.audit.helpers import entries, sql, verified
from tests.conftest import Tenant


async def _changes(tenant: Tenant, count: int) -> list[dict]:
    async with tenant.client() as c:
        for n in range(count):
            made = await c.post("/api/v1/policy", json={"name": f"p{n}", "rules": [{"when": {"actionType": "a"}}]})
            assert made.status_code == 201
    await verified(tenant)
    return sorted(await entries(tenant), key=lambda e: e["position"])


async def test_trimming_keeps_verify_passing_from_the_anchor(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await _changes(other_tenant, 2)  # older than the cutoff: all trimmed
    chain = await _changes(tenant, 6)
    removed = await trim_before(parse_timestamp(chain[3]["createdAt"]))
    assert removed == 3 + 2  # every organization's entries made before the cutoff
    kept = sorted(await entries(tenant), key=lambda e: e["position"])
    assert [e["position"] for e in kept] == [4, 5, 6]
    report = await verified(tenant)
    assert (report["ok"], report["checked"], report["anchorPosition"], report["firstPosition"]) == (True, 3, 3, 4)
    assert (await verified(other_tenant))["anchorPosition"] == theirs[-1]["position"]
    async with tenant.client() as c:  # the chain goes on after the anchor
        assert (await c.post("/api/v1/policy", json={"name": "later", "rules": []})).status_code == 201
    report = await verified(tenant)
    assert (report["ok"], report["checked"], report["headPosition"]) == (True, 4, 7)
    await sql("UPDATE audit_entries SET request_id = 'forged' WHERE id = $1", chain[3]["id"])
    report = await verified(tenant)
    assert (report["ok"], report["mismatch"]["entryId"], report["mismatch"]["position"]) == (False, chain[3]["id"], 4)


async def test_retention_keeps_what_is_younger_than_its_days(tenant: Tenant, settings: Settings) -> None:
    chain = await _changes(tenant, 2)
    assert await trim_expired(settings) == 0  # the default, 0 days: keep everything
    assert await trim_expired(settings.model_copy(update={"audit_retention_days": 1})) == 0
    assert len(await entries(tenant)) == len(chain)


async def test_expiry_and_a_workflow_end_are_recorded_as_the_system(tenant: Tenant) -> None:
    rule = {"when": {"actionType": "slow"}, "require": ["review"], "expiresIn": 1}
    steps = [{"name": "wait", "type": "delay", "config": {"seconds": 0}}]
    async with tenant.client() as c:
        assert (await c.post("/api/v1/policy", json={"name": "p", "rules": [rule]})).status_code == 201
        action = (await c.post("/api/v1/actions", json={"type": "slow", "actor": {"kind": "agent"}})).json()
        workflow = (await c.post("/api/v1/workflows", json={"name": "w", "definition": {"steps": steps}})).json()
        execution = (await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json={})).json()["executionId"]
        for _ in range(100):
            done = await entries(tenant, type="execution.completed")
            expired = await entries(tenant, type="action.expired")
            if done and expired:
                break
            await asyncio.sleep(0.1)
    assert [(e["resourceId"], e["actor"], e["keyId"]) for e in expired] == [(action["actionId"], "system:expiry", None)]
    assert [(e["resourceId"], e["actor"]) for e in done] == [(execution, "system:workflows")]
    assert expired[0]["changes"]["after"]["status"] == "expired"
    assert (await verified(tenant))["ok"] is True


async def test_the_kill_switch_rejections_are_the_systems_and_the_agent_is_recorded(tenant: Tenant) -> None:
    rule = {"when": {"actionType": "risky"}, "require": ["review"]}
    async with tenant.client() as c:
        assert (await c.post("/api/v1/policy", json={"name": "p", "rules": [rule]})).status_code == 201
        agent = (await c.post("/api/v1/agents", json={"name": "bot"})).json()
        bound = (await c.post("/api/v1/api-keys", json={"name": "bot key", "scopes": ["actions:write"],
                                                        "agentId": agent["id"]})).json()
    bot = Tenant(tenant.organization_id, bound["key"], tenant.base_url)
    async with bot.client() as c:
        action = (await c.post("/api/v1/actions", json={"type": "risky", "actor": {"kind": "agent"}})).json()
    assert action["status"] == "pending_approval"
    async with tenant.client() as c:
        assert (await c.patch(f"/api/v1/agents/{agent['id']}", json={"status": "disabled"})).status_code == 200
    await verified(tenant)
    proposed = await entries(tenant, type="action.proposed")
    assert [(e["keyId"], e["agentId"], e["actor"]) for e in proposed] == [(bound["id"], agent["id"], bound["id"])]
    assert len(await entries(tenant, agent=agent["id"])) == 1
    rejected = await entries(tenant, type="action.rejected")
    assert [(e["resourceId"], e["actor"], e["keyId"]) for e in rejected] == [
        (action["actionId"], "system:kill-switch", None)]
    disabled = await entries(tenant, type="agent.disabled")
    assert [e["changes"] for e in disabled] == [{"before": {"status": "active"}, "after": {"status": "disabled"}}]
