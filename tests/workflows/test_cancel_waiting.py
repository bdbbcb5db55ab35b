"""Cancelling an execution that waits on its approval step withdraws the action it proposed: the
action is `cancelled` with the reason, its approval closed, its history and event say so, and a
reviewer can no longer decide it. Before, it stayed pending and approvable for nothing."""

from __future__ import annotations

from models.workflows import Execution
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled
from tests.workflows.test_story import approval_of, manual_policy


async def test_cancelling_an_execution_withdraws_the_action_it_waits_for(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await manual_policy(c, "publish_note")
        workflow = await create_workflow(c, [{"name": "publish", "type": "approval", "config": {
            "type": "publish_note", "params": {"note": "{{ input.note }}"}}}])
        execution_id = await execute(c, workflow["id"], {"note": "hello"})
        await settled(c, execution_id, statuses=("waiting",))
        action_id = (await Execution.get(id=execution_id)).waiting_action_id
        assert (await c.get(f"/actions/{action_id}")).json()["status"] == "pending_approval"
        cancelled = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
        action = (await c.get(f"/actions/{action_id}")).json()
        approve = await c.post(f"/approvals/{approval_of(action_id)}/approve")
        pending = (await c.get("/approvals/pending")).json()
    reason = f"its workflow execution {execution_id} was cancelled"
    assert (action["status"], action["reason"]) == ("cancelled", reason), action
    assert approve.status_code == 409, approve.text
    assert action_id not in {p["actionId"] for p in pending}
    history = (await tenant.graphql("query($id: ID!) { action(id: $id) { history { kind detail } } }",
                                    {"id": action_id}))["data"]["action"]["history"]
    assert history[-1] == {"kind": "cancelled", "detail": {"reason": reason}}, history
