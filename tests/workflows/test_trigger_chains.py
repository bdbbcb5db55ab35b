"""Workflows that trigger each other stop at a fixed depth, visibly.

A's run emits an event that triggers B, whose run emits one that triggers A: before, that looped
without end, each round a new execution. Now each execution counts how many executions precede it
in its chain of triggers (`triggerDepth`) and the relay's sink starts none deeper than
MAX_TRIGGER_DEPTH: it records that one as failed, saying why, audited, and the chain ends there."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from models.workflows import Execution
from resolvers.workflows.sink import MAX_TRIGGER_DEPTH
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute
from tests.workflows.test_story import relayed

PAUSE = [{"name": "pause", "type": "delay", "config": {"seconds": 0}}]


def _approval(action_type: str) -> list[dict[str, Any]]:
    return [{"name": "confirm", "type": "approval", "config": {"type": action_type, "params": {}}}]


# (A's steps, A's trigger, B's steps, B's trigger): through `workflow.completed`, and through the
# decisions of actions their approval steps propose (approved at once: no policy)
LOOPS = {
    "workflow_events": (PAUSE, {"event": "workflow.completed"}, PAUSE, {"event": "workflow.completed"}),
    "approval_steps": (_approval("ping_b"), {"event": "action.approved", "actionType": "ping_a"},
                       _approval("ping_a"), {"event": "action.approved", "actionType": "ping_b"}),
}


async def _executions(ids: list[str]) -> list[Execution]:
    return await Execution.filter(workflow_id__in=ids).order_by("created_at")


async def _until_settled(ids: list[str], within: float = 60.0) -> list[Execution]:
    """The executions once none is unfinished and no new one came for a while (or, looping, once
    there are far more than a stopped chain makes)."""
    deadline = time.monotonic() + within
    quiet_since, seen = time.monotonic(), -1
    while time.monotonic() < deadline:
        runs = await _executions(ids)
        if len(runs) > 3 * MAX_TRIGGER_DEPTH:
            return runs
        if len(runs) != seen or any(r.status not in ("completed", "failed") for r in runs):
            quiet_since, seen = time.monotonic(), len(runs)
        elif time.monotonic() - quiet_since > 2.0:
            await relayed()
            if len(await _executions(ids)) == seen:
                return runs
        await asyncio.sleep(0.1)
    raise AssertionError("the executions did not settle")


@pytest.mark.parametrize("loop", sorted(LOOPS))
async def test_workflows_triggering_each_other_stop_at_the_documented_depth(tenant: Tenant, loop: str) -> None:
    steps_a, trigger_a, steps_b, trigger_b = LOOPS[loop]
    async with tenant.client() as c:
        a = await create_workflow(c, steps_a, trigger=trigger_a)
        b = await create_workflow(c, steps_b, trigger=trigger_b)
        await execute(c, a["id"])  # depth 0
        runs = await _until_settled([a["id"], b["id"]])
        listed = {w: (await c.get(f"/api/v1/workflows/{w}/executions", params={"limit": 200})).json()
                  for w in (a["id"], b["id"])}
        refused = [e for e in listed[a["id"]] + listed[b["id"]] if e["status"] == "failed"]
        audit = (await c.get("/api/v1/audit", params={"type": "execution.failed"})).json()
    # depths 0..MAX run, alternating A, B, A...; the next one (B's, depth MAX + 1) is refused
    assert len(runs) == MAX_TRIGGER_DEPTH + 2, f"the chain did not stop: {len(runs)} executions"
    assert sorted(r.trigger_depth for r in runs) == list(range(MAX_TRIGGER_DEPTH + 2))
    assert all(r.status == "completed" for r in runs if r.trigger_depth <= MAX_TRIGGER_DEPTH)
    [stopped] = refused
    assert stopped["workflowId"] == b["id"] and stopped["triggerDepth"] == MAX_TRIGGER_DEPTH + 1, stopped
    assert stopped["steps"] == [] and stopped["runStartedAt"] is None, stopped
    assert f"a chain of triggers stops past {MAX_TRIGGER_DEPTH}" in stopped["error"], stopped
    assert {e["triggerDepth"] for e in listed[a["id"]]} == set(range(0, MAX_TRIGGER_DEPTH + 1, 2))
    assert stopped["id"] in {entry["resourceId"] for entry in audit}, audit
