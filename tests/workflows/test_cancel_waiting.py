"""Cancelling an execution that waits on its approval step withdraws the action it proposed: the
action is `cancelled` with the reason, its approval closed, its history and event say so, and a
reviewer can no longer decide it. Before, it stayed pending and approvable for nothing. So does a
cancel landing while the step proposes: before, the action it proposed stayed pending."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from models.governance import Action
from models.workflows import Execution
from tests.conftest import DATABASE_URL, Tenant
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


# the new action's insert, held by a row of the same idempotency key not yet committed; and the
# cancel's lock on the execution's row
WAITING = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE "
PROPOSAL_WAITS = WAITING + "'%INSERT INTO%actions%'"
CANCEL_WAITS = WAITING + "'%executions%FOR UPDATE%'"


async def _until(probe: asyncpg.Connection, query: str, done: asyncio.Task[object] | None = None) -> None:
    """Until a backend waits as `query` counts (or `done` has finished), at most 10 s."""
    deadline = time.monotonic() + 10
    while not await probe.fetchval(query) and not (done is not None and done.done()):
        assert time.monotonic() < deadline, f"nothing waited: {query}"
        await asyncio.sleep(0.01)


async def test_a_cancel_while_the_approval_step_proposes_leaves_no_pending_action(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await manual_policy(c, "publish_note")
        template = await c.post("/actions", json={"type": "publish_note", "actor": {"kind": "agent"}})
        assert template.status_code == 201, template.text
        template_id = template.json()["actionId"]
        workflow = await create_workflow(c, [
            {"name": "pause", "type": "delay", "config": {"seconds": 2}},
            {"name": "publish", "type": "approval", "config": {"type": "publish_note"}}])
        execution_id = await execute(c, workflow["id"])
        key = f"{execution_id}:publish"  # the approval step's idempotency key (runner.idempotency_key)
        blocker, probe = await asyncpg.connect(DATABASE_URL), await asyncpg.connect(DATABASE_URL)
        try:
            holding = blocker.transaction()
            await holding.start()  # a row with the step's key, uncommitted: the step's insert waits for it
            await blocker.execute("CREATE TEMP TABLE held ON COMMIT DROP AS SELECT * FROM actions WHERE id = $1",
                                  template_id)
            await blocker.execute("UPDATE held SET id = 'act_held', idempotency_key = $1", key)
            await blocker.execute("INSERT INTO actions SELECT * FROM held")
            await _until(probe, PROPOSAL_WAITS)  # the step proposes now, after its delay
            cancel = asyncio.create_task(c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"}))
            await _until(probe, CANCEL_WAITS, cancel)  # answered, or waiting for the proposal's transaction
            await holding.rollback()
        finally:
            await blocker.close()
            await probe.close()
        cancelled = await cancel
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
        deadline = time.monotonic() + 5
        while (action := await Action.get_or_none(idempotency_key=key)) is None or action.status == "pending_approval":
            assert time.monotonic() < deadline, f"the step's action is {action and action.status} 5 s after the cancel"
            await asyncio.sleep(0.05)
        shown = (await c.get(f"/actions/{action.id}")).json()
        pending = (await c.get("/approvals/pending")).json()
    assert (shown["status"], shown["reason"]) == ("cancelled", f"its workflow execution {execution_id} was cancelled")
    assert action.id not in {p["actionId"] for p in pending}
