"""A connector update whose config drops an action (a custom_api endpoint removed) while a workflow's
step calls it, or an active policy notifies with it, is a 409 at both doors naming who uses it, and
changes nothing. It used to succeed, and the next run failed on an action that was gone. Saves and
updates racing each other are forced by a second PostgreSQL connection holding the connector's row
the way the other side does (see test_connector_delete_race)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from models.connectors import Connector
from models.workflows import Workflow
from tests.conftest import Tenant
from tests.workflows.test_connector_delete_race import _held_while
from tests.workflows.test_references import _credential

BOTH = {"actions": {"notify": {"url": "https://api.example.com/notify"},
                    "page": {"url": "https://api.example.com/page"}}}
PAGE_ONLY = {"actions": {"page": {"url": "https://api.example.com/page"}}}


async def _connector(c: httpx.AsyncClient) -> str:
    created = await c.post("/api/v1/connectors", json={"name": "api", "type": "custom_api", "config": BOTH,
                                                        "credentialId": await _credential(c, "api")})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _calling(connector_id: str, action: str = "notify") -> dict[str, Any]:
    return {"steps": [{"name": "tell", "type": "connector", "config": {
        "connectorId": connector_id, "action": action, "input": {"content": {"id": "c1", "content_type": "n"}}}}]}


async def _actions(connector_id: str) -> set[str]:
    return set((await Connector.get(id=connector_id)).config["actions"])


async def _graphql_update(tenant: Tenant, connector_id: str, config: dict[str, Any]) -> dict[str, Any]:
    out = await tenant.graphql("mutation($id: ID!, $c: JSON!) { updateConnector(id: $id, input: {config: $c}) { id } }",
                               {"id": connector_id, "c": config})
    return dict(out["errors"][0]) if "errors" in out else {"updated": out["data"]["updateConnector"]["id"]}


async def test_dropping_an_action_a_step_calls_is_refused_until_no_step_calls_it(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c)
        workflow = await c.post("/api/v1/workflows", json={"name": "wf", "definition": _calling(connector)})
        assert workflow.status_code == 201, workflow.text
        refused = await c.put(f"/api/v1/connectors/{connector}", json={"config": PAGE_ONLY})
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "CONFLICT" and workflow.json()["id"] in body["message"], body
        assert "'notify'" in body["message"] and "steps[0] 'tell'" in body["message"], body
        answer = await _graphql_update(tenant, connector, PAGE_ONLY)
        assert answer["extensions"]["code"] == "CONFLICT" and workflow.json()["id"] in answer["message"], answer
        assert await _actions(connector) == {"notify", "page"}
        kept = {"actions": {**BOTH["actions"], "ban": {"url": "https://api.example.com/ban"}}}
        assert (await c.put(f"/api/v1/connectors/{connector}", json={"config": kept})).status_code == 200
        assert (await c.delete(f"/api/v1/workflows/{workflow.json()['id']}")).status_code == 200
    assert await _graphql_update(tenant, connector, PAGE_ONLY) == {"updated": connector}
    assert await _actions(connector) == {"page"}


async def test_dropping_the_action_an_active_policy_notifies_with_is_refused(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c)
        policy = await c.post("/api/v1/policy", json={"name": "tell", "rules": [{"when": {"actionType": "pay"}}],
                                                      "notify": [{"connector": connector, "action": "notify"}]})
        assert policy.status_code == 201, policy.text
        refused = await c.put(f"/api/v1/connectors/{connector}", json={"config": PAGE_ONLY})
        assert refused.status_code == 409 and policy.json()["id"] in refused.json()["message"], refused.text
        assert await _actions(connector) == {"notify", "page"}
        archived = await c.put(f"/api/v1/policy/{policy.json()['id']}", json={"status": "archived"})
        assert archived.status_code == 200, archived.text
        assert (await c.put(f"/api/v1/connectors/{connector}", json={"config": PAGE_ONLY})).status_code == 200
        reactivated = await c.put(f"/api/v1/policy/{policy.json()['id']}", json={"status": "active"})
        assert reactivated.status_code == 400, reactivated.text
        assert "notify[0].action: must be one of page" in reactivated.json()["message"], reactivated.text


async def test_a_save_waits_for_an_update_dropping_its_action_and_is_refused(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c)
        saved = await _held_while(
            [("SELECT id FROM connectors WHERE id = $1 FOR UPDATE", [connector]),
             ("UPDATE connectors SET config = $2::jsonb WHERE id = $1", [connector, orjson.dumps(PAGE_ONLY).decode()])],
            c.post("/api/v1/workflows", json={"name": "wf", "definition": _calling(connector)}))
    assert saved.status_code == 400, saved.text
    assert f"steps[0] 'tell': config.action: connector {connector} has no action 'notify'" in saved.json()["message"]
    assert not await Workflow.filter(organization_id=tenant.organization_id).exists()


async def test_an_update_waits_for_a_save_under_way_and_sees_its_step(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c)
        workflow = await c.post("/api/v1/workflows", json={"name": "wf", "definition": _calling(connector, "page")})
        assert workflow.status_code == 201, workflow.text
        updated = await _held_while(
            [("SELECT id FROM connectors WHERE id = $1 FOR KEY SHARE", [connector]),
             ("UPDATE workflows SET definition = $2::jsonb WHERE id = $1",
              [workflow.json()["id"], orjson.dumps(_calling(connector)).decode()])],
            c.put(f"/api/v1/connectors/{connector}", json={"config": PAGE_ONLY}))
    assert updated.status_code == 409 and workflow.json()["id"] in updated.json()["message"], updated.text
    assert await _actions(connector) == {"notify", "page"}


async def test_a_policy_saved_while_an_update_drops_its_action_is_refused(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c)
        body = {"name": "tell", "rules": [{"when": {"actionType": "pay"}}],
                "notify": [{"connector": connector, "action": "notify"}]}
        saved = await _held_while(
            [("SELECT id FROM connectors WHERE id = $1 FOR UPDATE", [connector]),
             ("UPDATE connectors SET config = $2::jsonb WHERE id = $1", [connector, orjson.dumps(PAGE_ONLY).decode()])],
            c.post("/api/v1/policy", json=body))
    assert saved.status_code == 400, saved.text
    assert "notify[0].action: must be one of page" in saved.json()["message"], saved.text
