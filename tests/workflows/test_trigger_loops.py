"""Triggers and a workflow's own approval steps: the action an approval step proposes is the
workflow's own doing, so its decision never starts the same workflow again (which would loop)."""

from __future__ import annotations

import asyncio

from models.governance import Action
from models.workflows import Execution
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, settled
from tests.workflows.test_story import only_execution_of, relayed


async def test_an_approval_steps_own_decision_does_not_trigger_its_workflow_again(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "confirm", "type": "approval", "config": {
            "type": "publish_note", "target": "note:{{ trigger.params.noteId }}",
            "params": {"noteId": "{{ trigger.params.noteId }}"}}}],
            trigger={"event": "action.approved", "actionType": "publish_*"})
        listener = await create_workflow(c, [{"name": "pause", "type": "delay", "config": {"seconds": 0}}],
                                         trigger={"event": "action.approved", "actionType": "publish_*"})
        proposed = await c.post("/actions", json={"type": "publish_note", "actor": {"kind": "agent"},
                                                  "params": {"noteId": "n1"}})
        assert proposed.json()["status"] == "approved", proposed.text  # no policy: approved at once
        first = await only_execution_of(workflow["id"])
        done = await settled(c, first.id)
        assert done["status"] == "completed", done
        await relayed()
        await asyncio.sleep(1.5)
        await relayed()
        started = await Execution.filter(workflow_id=workflow["id"]).count()
        heard = await Execution.filter(workflow_id=listener["id"]).count()
        proposals = await Action.filter(organization_id=tenant.organization_id, type="publish_note").count()
    assert started == 1, f"the workflow's own approval started it again: {started} executions, {proposals} actions"
    assert proposals == 2  # the agent's and the step's
    assert heard == 2  # another workflow still hears both decisions
