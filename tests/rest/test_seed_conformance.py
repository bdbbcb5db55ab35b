"""Seed documents (shared/seeds/) checked where the other suites do not: what a client written
against them sends, the way it sends it, answered as they describe. Each test names its section."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, settled

DELAY = [{"name": "wait", "type": "delay", "config": {"seconds": 0}}]


async def test_002_execute_workflow_with_no_input_sent_as_null(tenant: Tenant) -> None:
    """Document 002, "Execute Workflow" and "SDK Examples": the Python snippet posts
    `json={'input': input_data}`, so `execute_workflow(wf, None)` sends `{"input": null}` (and the
    TypeScript one `JSON.stringify({ input: null })` the same). It was 400 "input: Input should be a
    valid dictionary" over REST, while GraphQL's `executeWorkflow(input: null)` ran it with `{}`."""
    async with tenant.client() as c:
        workflow = await create_workflow(c, DELAY)
        started = await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"input": None},
                               headers={"Content-Type": "application/json"})
        assert started.status_code == 202, started.text
        assert started.json()["status"] == "pending"
        execution = await settled(c, started.json()["executionId"])
    assert execution["status"] == "completed" and execution["input"] == {}
    by_graphql = await tenant.graphql("mutation($id: ID!) { executeWorkflow(id: $id, input: null) { id input } }",
                                      {"id": workflow["id"]})
    assert by_graphql["data"]["executeWorkflow"]["input"] == {}, by_graphql
    async with tenant.client() as c:
        wrong = await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"input": ["not", "an", "object"]})
    assert wrong.status_code == 400 and wrong.json()["error"] == "VALIDATION_ERROR"
