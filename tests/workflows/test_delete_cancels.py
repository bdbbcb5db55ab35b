"""Deleting a workflow cancels its unfinished executions, as cancelling each one would: cancelled
(with why), the action an approval step waits for withdrawn, an `execution.cancelled` audit entry
and a `workflow.cancelled` event each. Finished ones stay as they were, and all of them stay
readable: listing the deleted workflow's executions answers them, over REST and GraphQL alike
(another organization still gets 404).

Before, its waiting executions went on (an approval stayed pending for a workflow that was gone)
and listing the deleted workflow's executions answered 404.
"""

from __future__ import annotations

from typing import Any

import httpx

from models.audit import AuditEntry
from models.events import Event
from models.workflows import Execution, Workflow
from resolvers.workflows.executions import new_execution
from resolvers.workflows.workflows import current_version
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled
from tests.workflows.test_story import manual_policy

LISTED = "query($id: ID!) { executions(workflowId: $id) { edges { node { id status error } } } }"


async def _three_executions(c: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """A workflow whose input picks its way: one execution completed, one waiting on a delay, one
    waiting on a reviewer; the workflow's id and the executions' ids by state."""
    workflow = await create_workflow(c, [
        {"name": "pause", "type": "delay", "config": {"seconds": "{{ input.seconds }}"}},
        {"name": "publish", "type": "approval", "config": {"type": "{{ input.type }}", "params": {}}}])
    ids = {"completed": await execute(c, workflow["id"], {"seconds": 0, "type": "log_note"}),
           "delayed": await execute(c, workflow["id"], {"seconds": 600, "type": "log_note"}),
           "reviewed": await execute(c, workflow["id"], {"seconds": 0, "type": "publish_note"})}
    await settled(c, ids["completed"])
    for waiting in ("delayed", "reviewed"):
        await settled(c, ids[waiting], statuses=("waiting",))
    return workflow["id"], ids


async def _cancelled_records(tenant: Tenant, execution_ids: set[str]) -> tuple[set[str], set[str]]:
    """The executions among these with an `execution.cancelled` entry, and with a `workflow.cancelled` event."""
    audited = await AuditEntry.filter(organization_id=tenant.organization_id, type="execution.cancelled",
                                      resource_id__in=execution_ids).values_list("resource_id", flat=True)
    events = await Event.filter(organization_id=tenant.organization_id, type="workflow.cancelled").values_list(
        "data", flat=True)
    return set(audited), {e["executionId"] for e in events if e["executionId"] in execution_ids}  # type: ignore[index]


async def test_deleting_a_workflow_cancels_its_unfinished_executions_and_keeps_them_listed(
        tenant: Tenant, other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        await manual_policy(c, "publish_note")
        workflow_id, ids = await _three_executions(c)
        action_id = (await Execution.get(id=ids["reviewed"])).waiting_action_id
        deleted = await c.delete(f"/api/v1/workflows/{workflow_id}")
        listed = await c.get(f"/api/v1/workflows/{workflow_id}/executions")
        action = (await c.get(f"/actions/{action_id}")).json()
        pending = (await c.get("/approvals/pending")).json()
    graphql = await tenant.graphql(LISTED, {"id": workflow_id})
    async with other_tenant.client() as c:
        theirs = await c.get(f"/api/v1/workflows/{workflow_id}/executions")
    assert deleted.status_code == 200, deleted.text
    assert listed.status_code == 200, listed.text
    reason = f"its workflow {workflow_id} was deleted"
    expected = {ids["completed"]: ("completed", None), ids["delayed"]: ("cancelled", reason),
                ids["reviewed"]: ("cancelled", reason)}
    assert {e["id"]: (e["status"], e["error"]) for e in listed.json()} == expected
    nodes = graphql["data"]["executions"]["edges"]
    assert {n["node"]["id"]: (n["node"]["status"], n["node"]["error"]) for n in nodes} == expected, graphql
    assert (action["status"], action["reason"]) == ("cancelled", f"its workflow execution {ids['reviewed']} was "
                                                                 "cancelled"), action
    assert action_id not in {p["actionId"] for p in pending}
    unfinished = {ids["delayed"], ids["reviewed"]}
    assert await _cancelled_records(tenant, set(ids.values())) == (unfinished, unfinished)
    assert theirs.status_code == 404 and theirs.json()["error"] == "NOT_FOUND"


async def test_graphql_delete_cancels_as_rest_does(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "pause", "type": "delay", "config": {"seconds": 600}}])
        execution_id = await execute(c, workflow["id"])
        await settled(c, execution_id, statuses=("waiting",))
        deleted = await tenant.graphql("mutation($id: ID!) { deleteWorkflow(id: $id) { id } }", {"id": workflow["id"]})
        execution: dict[str, Any] = (await c.get(f"/api/v1/executions/{execution_id}")).json()
        listed = await c.get(f"/api/v1/workflows/{workflow['id']}/executions")
    graphql = await tenant.graphql(LISTED, {"id": workflow["id"]})
    assert deleted["data"] == {"deleteWorkflow": {"id": workflow["id"]}}, deleted
    assert (execution["status"], execution["error"]) == ("cancelled", f"its workflow {workflow['id']} was deleted")
    assert [s["status"] for s in execution["steps"]] == ["cancelled"]
    assert [e["id"] for e in listed.json()] == [execution_id]
    assert [n["node"]["id"] for n in graphql["data"]["executions"]["edges"]] == [execution_id], graphql
    assert await _cancelled_records(tenant, {execution_id}) == ({execution_id}, {execution_id})


async def test_an_execution_inserted_as_its_workflow_is_deleted_is_cancelled_not_run(tenant: Tenant) -> None:
    """What an execute (REST, GraphQL) or a trigger that read the workflow just before a delete
    committed leaves: an execution, pending, inserted after the delete cancelled the others. The
    runner cancels it as the delete would have, before its first step; before, it ran (completed)."""
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "pause", "type": "delay", "config": {"seconds": 0}}])
        row = await Workflow.get(id=workflow["id"])
        version = await current_version(row)
        deleted = await c.delete(f"/api/v1/workflows/{workflow['id']}")
        assert deleted.status_code == 200, deleted.text
        late = new_execution(row, version, {})
        await late.save()
        # no start hint: the runners' poll claims it (a hinted claim leaves a deleted workflow's to it)
        execution = await settled(c, late.id)
    reason = f"its workflow {workflow['id']} was deleted"
    assert (execution["status"], execution["error"], execution["runStartedAt"]) == ("cancelled", reason, None), \
        execution
    assert execution["steps"] == [], execution
    assert await _cancelled_records(tenant, {late.id}) == ({late.id}, {late.id})
