"""A delay's `until` that names no instant in UTC: refused on save, a failed step at run time.

'9999-12-31T23:59:59-01:00' passes JSON Schema's date-time format but is in year 10000 in UTC: the
runner crashed writing it, on every takeover, and the execution stayed `running` for ever."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled

BEYOND = "9999-12-31T23:59:59-01:00"


async def test_an_until_beyond_year_9999_in_utc_is_refused_on_save(tenant: Tenant) -> None:
    step = {"name": "wait", "type": "delay", "config": {"until": BEYOND}}
    async with tenant.client() as c:
        refused = await c.post("/api/v1/workflows", json={"name": "wf", "definition": {"steps": [step]}})
        listed = await c.get("/api/v1/workflows")
    assert refused.status_code == 400 and refused.json()["error"] == "VALIDATION_ERROR", refused.text
    assert "steps[0] 'wait'" in refused.json()["message"] and "config.until" in refused.json()["message"]
    assert listed.json() == []
    by_graphql = await tenant.graphql(
        "mutation($d: JSON!) { createWorkflow(input: {name: \"wf\", definition: $d}) { id } }",
        {"d": {"steps": [step]}})
    assert by_graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", by_graphql


async def test_an_until_from_the_input_beyond_year_9999_fails_its_step(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "wait", "type": "delay", "config": {"until": "{{ input.at }}"}}])
        execution = await settled(c, await execute(c, workflow["id"], {"at": BEYOND}))
    assert execution["status"] == "failed", execution
    assert "config.until" in execution["error"] and "9999" in execution["error"]
    assert [(s["name"], s["status"]) for s in execution["steps"]] == [("wait", "failed")]
