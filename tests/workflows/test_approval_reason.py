"""An approval step's `reason` reaches the reviewer: rendered from the run's data, it is on the
proposed history entry (`workflowReason`, as an MCP agent's reason is `agentReason`), which the
console's action page shows above the params (tests/console/test_proposers_reason.py). Before, it
was saved with the workflow and never shown."""

from __future__ import annotations

from models.governance import Action
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled
from tests.workflows.test_story import manual_policy

HISTORY = "query($id: ID!) { action(id: $id) { history { kind detail } } }"
REASON = 'Refund order {{ input.order }}: the customer was charged twice <img src=x onerror="window.__xss=1">'
RENDERED = REASON.replace("{{ input.order }}", "A-17")


async def waiting_for_a_reviewer(tenant: Tenant, reason: str = REASON) -> str:
    """The action of an approval step with `reason`, once its execution waits for it."""
    async with tenant.client() as c:
        await manual_policy(c, "refund")
        workflow = await create_workflow(c, [{"name": "ask", "type": "approval", "config": {
            "type": "refund", "params": {"order": "{{ input.order }}"}, "reason": reason}}])
        execution_id = await execute(c, workflow["id"], {"order": "A-17"})
        await settled(c, execution_id, statuses=("waiting",))
    return (await Action.get(idempotency_key=f"{execution_id}:ask")).id


async def test_an_approval_steps_reason_is_on_the_proposed_entry(tenant: Tenant) -> None:
    action_id = await waiting_for_a_reviewer(tenant)
    history = (await tenant.graphql(HISTORY, {"id": action_id}))["data"]["action"]["history"]
    assert history[0]["kind"] == "proposed", history
    assert history[0]["detail"]["workflowReason"] == RENDERED, history
