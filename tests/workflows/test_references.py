"""A connector or a credential still named by a workflow's step, or a connector a policy notifies,
cannot be deleted at either door: the delete is a 409 naming who uses it, changes nothing, and
succeeds once nothing does. It used to succeed, and the next run failed on what was gone."""

from __future__ import annotations

from typing import Any

import httpx

from models.connectors import Connector, Credential
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow

CALLS = {"actions": {"notify": {"url": "https://api.example.com/notify"}}}


async def _credential(c: httpx.AsyncClient, name: str, provider: str = "custom_api") -> str:
    data = {"headers": {"X-Key": "k"}} if provider == "custom_api" else {"token": "t"}
    created = await c.post("/api/v1/credentials", json={"name": name, "type": "custom", "provider": provider,
                                                         "data": data})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _connector(c: httpx.AsyncClient, credential_id: str) -> str:
    created = await c.post("/api/v1/connectors", json={"name": "api", "type": "custom_api",
                                                        "credentialId": credential_id, "config": CALLS})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _graphql_delete(tenant: Tenant, kind: str, ident: str) -> dict[str, Any]:
    out = await tenant.graphql(f"mutation($id: ID!) {{ delete{kind}(id: $id) {{ id }} }}", {"id": ident})
    return dict(out["errors"][0]) if "errors" in out else {"deleted": out["data"][f"delete{kind}"]["id"]}


async def test_what_a_workflow_calls_cannot_be_deleted_until_it_no_longer_does(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "for the connector"))
        sent = await _credential(c, "for the step", "http")
        workflow = await create_workflow(c, [
            {"name": "tell", "type": "connector", "config": {
                "connectorId": connector, "action": "notify", "input": {"content": {"id": "c1", "content_type": "n"}}}},
            {"name": "call", "type": "http_request", "config": {"url": "https://api.example.com/x",
                                                                 "credentialId": sent}}])
        refused = {path: await c.delete(f"/api/v1/{path}") for path in (f"connectors/{connector}",
                                                                        f"credentials/{sent}")}
        for response in refused.values():
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "CONFLICT" and workflow["id"] in response.json()["message"]
        for kind, ident in (("Connector", connector), ("Credential", sent)):
            answer = await _graphql_delete(tenant, kind, ident)
            assert answer["extensions"]["code"] == "CONFLICT" and workflow["id"] in answer["message"], answer
        assert await Connector.exists(id=connector) and await Credential.exists(id=sent)
        assert (await c.delete(f"/api/v1/workflows/{workflow['id']}")).status_code == 200
        assert (await c.delete(f"/api/v1/connectors/{connector}")).status_code == 200
    assert await _graphql_delete(tenant, "Credential", sent) == {"deleted": sent}


async def test_a_connector_an_active_policy_notifies_cannot_be_deleted(tenant: Tenant) -> None:
    async with tenant.client() as c:
        connector = await _connector(c, await _credential(c, "notify"))
        policy = await c.post("/api/v1/policy", json={"name": "tell", "rules": [{"when": {"actionType": "pay"}}],
                                                      "notify": [connector]})
        assert policy.status_code == 201, policy.text
        refused = await c.delete(f"/api/v1/connectors/{connector}")
        assert refused.status_code == 409 and policy.json()["id"] in refused.json()["message"], refused.text
        archived = await c.put(f"/api/v1/policy/{policy.json()['id']}", json={"status": "archived"})
        assert archived.status_code == 200, archived.text
        assert (await c.delete(f"/api/v1/connectors/{connector}")).status_code == 200
