"""A workflow whose http_request step proposes through Gatehouse's own REST API is the cause of what
it proposed: the step sends `Idempotency-Key: {executionId}:{step}`, and an action proposed under such
a key counts as that execution's doing (sink.causes_of), as an approval step's proposal does. So a
workflow triggered by `action.approved` that proposes the same type does not start itself again, and
other workflows hearing that action are one link further down the chain (`triggerDepth`). Before, the
self-call escaped the guard: the workflow started itself without end. A key naming another
organization's execution causes nothing."""

from __future__ import annotations

import asyncio

from models.governance import Action
from models.workflows import Execution
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, settled
from tests.workflows.test_story import only_execution_of, relayed


async def test_a_step_proposing_its_own_trigger_through_the_api_does_not_loop(tenant: Tenant,
                                                                               other_tenant: Tenant) -> None:
    call = {"method": "POST", "url": f"{tenant.base_url}/api/v1/actions",
            "headers": {"Authorization": f"Bearer {tenant.key}"},
            "body": {"type": "loop_note", "actor": {"kind": "agent", "name": "wf"}}}
    async with tenant.client() as c:
        looping = await create_workflow(c, [{"name": "propose", "type": "http_request", "config": call}],
                                        trigger={"event": "action.approved", "actionType": "loop_*"})
        listener = await create_workflow(c, [{"name": "pause", "type": "delay", "config": {"seconds": 0}}],
                                         trigger={"event": "action.approved", "actionType": "loop_*"})
        first = await c.post("/api/v1/actions", json={"type": "loop_note", "actor": {"kind": "agent"}})
        assert first.status_code == 201, first.text
        run = await only_execution_of(looping["id"])
        done = await settled(c, run.id)
        assert done["status"] == "completed", done
        for _ in range(3):  # long enough for a loop to show: each turn is one relay and one call
            await relayed()
            await asyncio.sleep(0.5)
        started = await Execution.filter(workflow_id=looping["id"]).count()
        proposals = await Action.filter(organization_id=tenant.organization_id, type="loop_note").count()
        depths = sorted(e.trigger_depth for e in await Execution.filter(workflow_id=listener["id"]))
    assert started == 1, f"the step's own proposal started its workflow again: {started} runs, {proposals} actions"
    assert proposals == 2  # the agent's and the step's
    assert depths == [0, 1]  # the listener heard both; the step's proposal is one link down its chain

    async with other_tenant.client() as o:  # another organization cannot claim that execution as its cause
        foreign = await create_workflow(o, [{"name": "pause", "type": "delay", "config": {"seconds": 0}}],
                                        trigger={"event": "action.approved", "actionType": "loop_*"})
        forged = await o.post("/api/v1/actions", json={"type": "loop_note", "actor": {"kind": "agent"}},
                              headers={"Idempotency-Key": f"{run.id}:propose"})
        assert forged.status_code == 201, forged.text
        theirs = await only_execution_of(foreign["id"])
    assert theirs.trigger_depth == 0
