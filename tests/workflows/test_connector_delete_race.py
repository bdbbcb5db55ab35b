"""Saving a workflow and deleting a connector its step calls, at the same time, never leave a saved
definition calling a deleted connector. The save checked the connector, then committed in another
transaction, and the delete checked for references, then deleted: each could pass its check before
the other committed. Now the delete holds the connector FOR UPDATE across its check and the save
locks the connectors it calls (FOR KEY SHARE) in its transaction and checks them again.

The interleavings are forced with hooks that hold one side between its check and its commit, so
the tests do not depend on timing; a last one runs both requests together several times."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from models.connectors import Connector
from models.workflows import Workflow
from resolvers.connectors import connectors as connector_resolvers
from resolvers.workflows import workflows as workflow_resolvers
from tests.conftest import Tenant
from tests.workflows.test_references import _connector, _credential


def _definition(connector_id: str) -> dict[str, Any]:
    return {"steps": [{"name": "tell", "type": "connector", "config": {
        "connectorId": connector_id, "action": "notify", "input": {"content": {"id": "c1", "content_type": "n"}}}}]}


async def _dangling(organization_id: str) -> list[str]:
    """Workflows (not deleted) whose definition calls a connector that no longer exists."""
    existing = set(await Connector.filter(organization_id=organization_id).values_list("id", flat=True))
    found = []
    for workflow in await Workflow.filter(organization_id=organization_id, deleted_at__isnull=True):
        for step in (workflow.definition or {}).get("steps") or []:
            if step.get("type") == "connector" and step["config"]["connectorId"] not in existing:
                found.append(workflow.id)
    return found


async def test_a_save_held_after_its_check_is_refused_once_the_connector_is_deleted(
        tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    checked, go_on = asyncio.Event(), asyncio.Event()
    real = workflow_resolvers.connector_check

    def held(ctx: Any) -> Any:
        check = real(ctx)

        async def wait_after(connector_id: str, action: str) -> dict[str, Any] | None:
            found = await check(connector_id, action)
            checked.set()
            await go_on.wait()
            return found

        return wait_after

    monkeypatch.setattr(workflow_resolvers, "connector_check", held)
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "race"))
        body = {"name": "wf", "definition": _definition(connector)}
        save = asyncio.create_task(c.post("/api/v1/workflows", json=body))
        try:
            await asyncio.wait_for(checked.wait(), 5)
            deleted = await c.delete(f"/api/v1/connectors/{connector}")  # nothing names it yet
        finally:
            go_on.set()
        saved = await save
        assert deleted.status_code == 200, deleted.text
    assert saved.status_code == 400, saved.text
    assert saved.json()["error"] == "VALIDATION_ERROR" and f"connector {connector} not found" in saved.json()["message"]
    assert await _dangling(tenant.organization_id) == []


async def test_a_delete_held_after_its_check_makes_the_save_wait_and_refuses_it(
        tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    checked, go_on = asyncio.Event(), asyncio.Event()
    real = connector_resolvers.policy_notifying  # the delete's last reference check

    async def held(organization_id: str, connector_id: str) -> Any:
        found = await real(organization_id, connector_id)
        checked.set()
        await go_on.wait()
        return found

    monkeypatch.setattr(connector_resolvers, "policy_notifying", held)
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "race"))
        workflow = await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": [
            {"name": "wait", "type": "delay", "config": {"seconds": 1}}]}})
        assert workflow.status_code == 201, workflow.text
        delete = asyncio.create_task(c.delete(f"/api/v1/connectors/{connector}"))
        try:
            await asyncio.wait_for(checked.wait(), 5)  # no workflow calls it yet: the delete goes ahead
            save = asyncio.create_task(c.put(f"/api/v1/workflows/{workflow.json()['id']}",
                                             json={"definition": _definition(connector)}))
            await asyncio.sleep(0.3)  # the save waits for the delete's lock (or has not reached it yet)
            waited = not save.done()
        finally:
            go_on.set()
        deleted, saved = await delete, await save
        assert waited, saved.text
    assert deleted.status_code == 200, deleted.text
    assert saved.status_code == 400, saved.text
    assert f"connector {connector} not found" in saved.json()["message"], saved.text
    assert await _dangling(tenant.organization_id) == []
    assert (await Workflow.get(id=workflow.json()["id"])).version == 1


async def test_saving_and_deleting_together_never_leave_a_dangling_step(tenant: Tenant) -> None:
    async with tenant.client() as c, httpx.AsyncClient(base_url=tenant.base_url, headers=tenant.headers,
                                                       timeout=10) as other:
        credential = await _credential(c, "race")
        for _ in range(8):
            connector = await _connector(c, credential)
            saved, deleted = await asyncio.gather(
                c.post("/api/v1/workflows", json={"name": "wf", "definition": _definition(connector)}),
                other.delete(f"/api/v1/connectors/{connector}"))
            outcome = (saved.status_code, deleted.status_code)
            assert outcome in ((201, 409), (400, 200)), (outcome, saved.text, deleted.text)
            if saved.status_code == 201:
                assert (await c.delete(f"/api/v1/workflows/{saved.json()['id']}")).status_code == 200
        assert await _dangling(tenant.organization_id) == []
