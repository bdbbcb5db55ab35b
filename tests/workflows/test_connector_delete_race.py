"""Saving a workflow and deleting a connector its step calls, at the same time, never leave a saved
definition calling a deleted connector. The save checked the connector, then committed in another
transaction, and the delete checked for references, then deleted: each could pass its check before
the other committed. Now the delete holds the connector FOR UPDATE across its check and the save
locks the connectors it calls (FOR KEY SHARE) in its transaction and checks them again.

The interleavings are forced by a second PostgreSQL connection that holds the connector's row the
way the other side does and commits its change while the request waits, so the tests do not depend
on timing; a last one runs both requests together several times."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import orjson

from models.connectors import Connector, Credential
from models.governance import Policy
from models.workflows import Workflow
from tests.conftest import DATABASE_URL, Tenant
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


async def test_a_save_waits_for_a_delete_under_way_and_is_refused_once_it_commits(tenant: Tenant) -> None:
    """Another transaction holds the connector as a delete does (FOR UPDATE) and deletes it: the save,
    past its own check, waits for it and then finds the connector gone."""
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "race"))
        holder = await asyncpg.connect(DATABASE_URL)
        try:
            async with holder.transaction():
                await holder.execute("SELECT id FROM connectors WHERE id = $1 FOR UPDATE", connector)
                save = asyncio.create_task(c.post("/api/v1/workflows",
                                                  json={"name": "wf", "definition": _definition(connector)}))
                await asyncio.sleep(0.5)
                assert not save.done()  # it waits on the delete's lock
                await holder.execute("DELETE FROM connectors WHERE id = $1", connector)
            saved = await asyncio.wait_for(save, 10)
        finally:
            await holder.close()
    assert saved.status_code == 400, saved.text
    assert saved.json()["error"] == "VALIDATION_ERROR" and f"connector {connector} not found" in saved.json()["message"]
    assert await _dangling(tenant.organization_id) == []


async def test_a_delete_waits_for_a_save_under_way_and_sees_what_it_committed(tenant: Tenant) -> None:
    """Another transaction holds the connector as a save does (FOR KEY SHARE) and points a workflow's
    definition at it: the delete waits for it and then answers 409 naming that workflow."""
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "race"))
        workflow = await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": [
            {"name": "wait", "type": "delay", "config": {"seconds": 1}}]}})
        assert workflow.status_code == 201, workflow.text
        holder = await asyncpg.connect(DATABASE_URL)
        try:
            async with holder.transaction():
                await holder.execute("SELECT id FROM connectors WHERE id = $1 FOR KEY SHARE", connector)
                await holder.execute("UPDATE workflows SET definition = $2::jsonb WHERE id = $1",
                                     workflow.json()["id"], orjson.dumps(_definition(connector)).decode())
                delete = asyncio.create_task(c.delete(f"/api/v1/connectors/{connector}"))
                await asyncio.sleep(0.5)
                assert not delete.done()  # it waits on the save's lock
            deleted = await asyncio.wait_for(delete, 10)
        finally:
            await holder.close()
    assert deleted.status_code == 409, deleted.text
    assert workflow.json()["id"] in deleted.json()["message"], deleted.text
    assert await Connector.exists(id=connector)


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


def _sending(credential_id: str) -> dict[str, Any]:
    return {"steps": [{"name": "call", "type": "http_request", "config": {"url": "https://api.example.com/x",
                                                                        "credentialId": credential_id}}]}


async def _held_while(statements: list[tuple[str, list[Any]]], request: Any) -> httpx.Response:
    """`request` started while another PostgreSQL transaction runs `statements` (the first takes its
    row lock); checks it waits for that transaction, then returns its answer once it committed."""
    holder = await asyncpg.connect(DATABASE_URL)
    try:
        async with holder.transaction():
            for sql, args in statements:
                await holder.execute(sql, *args)
            answer = asyncio.create_task(request)
            await asyncio.sleep(0.5)
            assert not answer.done()  # it waits on the other side's lock
        return await asyncio.wait_for(answer, 10)
    finally:
        await holder.close()


async def test_a_credential_delete_waits_for_a_save_under_way_and_sees_its_step(tenant: Tenant) -> None:
    async with tenant.client() as c:
        sent = await _credential(c, "sent", "http")
        workflow = await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": [
            {"name": "wait", "type": "delay", "config": {"seconds": 1}}]}})
        assert workflow.status_code == 201, workflow.text
        deleted = await _held_while([
            ("SELECT id FROM credentials WHERE id = $1 FOR KEY SHARE", [sent]),
            ("UPDATE workflows SET definition = $2::jsonb WHERE id = $1",
             [workflow.json()["id"], orjson.dumps(_sending(sent)).decode()])],
            c.delete(f"/api/v1/credentials/{sent}"))
    assert deleted.status_code == 409 and workflow.json()["id"] in deleted.json()["message"], deleted.text
    assert await Credential.exists(id=sent)


async def test_a_save_sending_a_credential_waits_for_its_delete_and_is_refused(tenant: Tenant) -> None:
    async with tenant.client() as c:
        sent = await _credential(c, "sent", "http")
        saved = await _held_while([("SELECT id FROM credentials WHERE id = $1 FOR UPDATE", [sent]),
                                   ("DELETE FROM credentials WHERE id = $1", [sent])],
                                  c.post("/api/v1/workflows", json={"name": "wf", "definition": _sending(sent)}))
    assert saved.status_code == 400, saved.text
    assert f"config.credentialId: credential {sent} not found" in saved.json()["message"], saved.text
    assert not await Workflow.filter(organization_id=tenant.organization_id).exists()


async def test_an_active_policy_saved_while_its_connector_is_deleted_is_refused(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "notify"))
        body = {"name": "tell", "rules": [{"when": {"actionType": "pay"}}], "notify": [connector]}
        saved = await _held_while([("SELECT id FROM connectors WHERE id = $1 FOR UPDATE", [connector]),
                                   ("DELETE FROM connectors WHERE id = $1", [connector])],
                                  c.post("/api/v1/policy", json=body))
    assert saved.status_code == 400, saved.text
    assert f"notify[0].connector: {connector} is not a" in saved.json()["message"], saved.text
    assert not await Policy.filter(organization_id=tenant.organization_id, name="tell").exists()


async def test_a_policy_reactivated_after_its_connector_went_is_refused(tenant: Tenant) -> None:
    """An archived policy does not hold its connector (the delete goes ahead); made active again, it
    would notify one that is gone."""
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "notify"))
        policy = (await c.post("/api/v1/policy", json={"name": "tell", "rules": [{"when": {"actionType": "pay"}}],
                                                       "notify": [connector], "status": "archived"})).json()
        assert (await c.delete(f"/api/v1/connectors/{connector}")).status_code == 200
        reactivated = await c.put(f"/api/v1/policy/{policy['id']}", json={"status": "active"})
        assert reactivated.status_code == 400, reactivated.text
        assert f"notify[0].connector: {connector}" in reactivated.json()["message"], reactivated.text
        again = await c.put(f"/api/v1/policy/{policy['id']}", json={"status": "active", "notify": []})
        assert again.status_code == 200 and again.json()["status"] == "active", again.text
