"""Text holding NUL (U+0000), which no PostgreSQL column can hold, is a 400 wherever a client sends
it, in either door, and nothing is written: credentials, connectors, workflows and their inputs
answered 500 INTERNAL (the insert failed) before their resolvers checked it."""

from __future__ import annotations

import pytest

from models.connectors import Connector, Credential
from models.workflows import Execution, Workflow
from tests.conftest import Tenant

NUL = "\u0000"
STEP = {"name": "call", "type": "http_request", "config": {"url": "https://api.example.com/x"}}
CASES = {
    "credential field": ("/api/v1/credentials", {"name": "c", "type": "custom", "provider": "http",
                                                 "data": {"token": "t", NUL: "v"}}),
    "credential metadata": ("/api/v1/credentials", {"name": "c", "type": "custom", "provider": "http",
                                                    "data": {"token": "t"}, "metadata": {"k": f"a{NUL}b"}}),
    "connector config": ("/api/v1/connectors", {"name": "x", "type": "http", "config": {"headers": {"a": NUL}}}),
    "workflow step": ("/api/v1/workflows", {"name": "wf", "definition": {"steps": [
        {**STEP, "config": {**STEP["config"], "method": "POST", "body": f"x{NUL}"}}]}}),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_rest_refuses_nul_with_a_400_and_writes_nothing(tenant: Tenant, case: str) -> None:
    path, body = CASES[case]
    async with tenant.client() as c:
        answer = await c.post(path, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "VALIDATION_ERROR" and "NUL" in answer.json()["message"]
    assert await Credential.all().count() == await Connector.all().count() == await Workflow.all().count() == 0


async def test_an_execution_input_with_nul_is_refused_in_both_doors(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = (await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": [STEP]}})).json()
        rest = await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"input": {f"k{NUL}": NUL}})
    graphql = await tenant.graphql("mutation($id: ID!, $input: JSON) { executeWorkflow(id: $id, input: $input) "
                                   "{ id } }", {"id": workflow["id"], "input": {"k": f"a{NUL}"}})
    assert rest.status_code == 400 and "NUL" in rest.json()["message"]
    assert graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", graphql
    assert await Execution.all().count() == 0


async def test_graphql_refuses_nul_in_a_credential_and_writes_nothing(tenant: Tenant) -> None:
    created = await tenant.graphql(
        "mutation($input: CreateCredentialInput!) { createCredential(input: $input) { id } }",
        {"input": {"name": "c", "type": "custom", "provider": "http", "data": {"token": f"t{NUL}"}}})
    assert created["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", created
    assert "NUL" in created["errors"][0]["message"]
    assert await Credential.all().count() == 0
