"""Times a workflow or an escalation writes into data a client reads are in the wire format (UTC,
milliseconds, `Z`, DESIGN.md), as every other timestamp: a delay step's `waitedUntil` and an
escalation's `expiresAt` in the action's history read `2026-12-06T07:43:23.837256+00:00` before."""

from __future__ import annotations

import asyncio
import re

from tests.approvals.review_helpers import agent_and_reviewers, create_group, create_policy, propose
from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled

WIRE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_a_delay_steps_waited_until_is_a_wire_time(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "wait", "type": "delay", "config": {"seconds": 0}}])
        execution = await settled(c, await execute(c, workflow["id"], {}))
    assert execution["status"] == "completed", execution
    assert WIRE.match(execution["steps"][0]["output"]["waitedUntil"]), execution["steps"][0]


async def test_an_escalations_new_deadline_in_the_history_is_a_wire_time(tenant: Tenant) -> None:
    agent, (alice, _, _) = await agent_and_reviewers(tenant)
    await create_group(tenant, "seniors", [alice.id])
    await create_policy(tenant, [{"when": {"actionType": "escwire"}, "expiresIn": 1, "onExpire": "escalate",
                                  "escalateTo": "seniors"}])
    proposed = await propose(agent, "escwire")
    query = "query($id: ID!) { action(id: $id) { history { kind detail } } }"
    await asyncio.sleep(1.5)  # past its deadline: the expiry worker (every 0.5 s) escalates it
    for _ in range(20):
        history = (await tenant.graphql(query, {"id": proposed["actionId"]}))["data"]["action"]["history"]
        escalated = [h for h in history if h["kind"] == "escalated"]
        if escalated:
            break
        await asyncio.sleep(0.5)
    assert escalated and WIRE.match(escalated[0]["detail"]["expiresAt"]), history
