"""A step that runs a connector's action, or sends a credential (an http_request step with
`credentialId`), does what `connectors:write` allows: saving one needs that scope as well as
`workflows:write`, at both doors (403 FORBIDDEN naming the step, nothing stored). A key with
`workflows:write` alone, which may not even list credentials, sent an http credential's token to a
URL of its choosing by saving and executing such a step. Executing a workflow saved by a key that
had the scope still needs only `workflows:write`."""

from __future__ import annotations

from typing import Any

import httpx

from models.workflows import Workflow, WorkflowVersion
from tests.conftest import Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.workflows.helpers import create_workflow, execute, settled
from tests.workflows.test_references import _connector, _credential

TOKEN = "tok-secret-0123456789abcdef"
CREATE = "mutation($d: JSON!) { createWorkflow(input: {name: \"w\", definition: $d}) { id } }"


async def _key_client(admin: httpx.AsyncClient, tenant: Tenant, scopes: list[str]) -> httpx.AsyncClient:
    created = await admin.post("/api/v1/api-keys", json={"name": "+".join(scopes), "scopes": scopes})
    assert created.status_code == 201, created.text
    return httpx.AsyncClient(base_url=tenant.base_url, timeout=10,
                             headers={"Authorization": f"Bearer {created.json()['key']}"})


async def _graphql(c: httpx.AsyncClient, definition: dict[str, Any]) -> dict[str, Any]:
    answer = await c.post("/graphql", json={"query": CREATE, "variables": {"d": definition}})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_step_using_a_connector_or_a_credential_needs_connectors_write(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as admin:
        credential = await admin.post("/api/v1/credentials", json={
            "name": "token", "type": "custom", "provider": "http", "data": {"token": TOKEN}})
        assert credential.status_code == 201, credential.text
        sending = [{"name": "call", "type": "http_request", "config": {
            "url": f"{api.base_url}/echo", "credentialId": credential.json()["id"]}}]
        connector = await _connector(admin, await _credential(admin, "custom"))
        calling = [{"name": "tell", "type": "connector", "config": {
            "connectorId": connector, "action": "notify", "input": {"content": {"id": "c1", "content_type": "n"}}}}]
        saved = await create_workflow(admin, [{"name": "plain", "type": "delay", "config": {"seconds": 60}}])
        async with await _key_client(admin, tenant, ["workflows:write"]) as c:
            for steps, refusal in ((sending, "steps[0] 'call' sends a credential"),
                                   (calling, "steps[0] 'tell' calls a connector")):
                expected = f"{refusal}: this API key lacks the 'connectors:write' scope"
                created = await c.post("/api/v1/workflows", json={"name": "w", "definition": {"steps": steps}})
                assert created.status_code == 403, created.text
                assert created.json() == {"error": "FORBIDDEN", "message": expected}
                updated = await c.put(f"/api/v1/workflows/{saved['id']}", json={"definition": {"steps": steps}})
                assert updated.status_code == 403 and updated.json()["message"] == expected, updated.text
                error = (await _graphql(c, {"steps": steps}))["errors"][0]
                assert error["extensions"]["code"] == "FORBIDDEN" and error["message"] == expected, error
            assert await Workflow.all().count() == 1 and await WorkflowVersion.all().count() == 1
            assert (await c.get("/api/v1/credentials")).status_code == 403  # nor may it read them
        async with await _key_client(admin, tenant, ["workflows:write", "connectors:write"]) as c:
            workflow = await create_workflow(c, sending)
            assert (await _graphql(c, {"steps": calling}))["data"]["createWorkflow"]["id"]
        async with await _key_client(admin, tenant, ["workflows:write"]) as c:
            execution = await settled(c, await execute(c, workflow["id"]))
    assert execution["status"] == "completed", execution
    assert [request.path for request in api.requests] == ["/echo"]
    assert api.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
