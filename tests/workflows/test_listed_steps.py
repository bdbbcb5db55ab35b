"""Executions listed carry their steps at both doors, as a read of one does: lists answered
`"steps": []` for executions that had run steps, which a client could only read as none."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, execute, settled


async def test_listed_executions_carry_their_steps(tenant: Tenant) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "a", "type": "delay", "config": {"seconds": 0}},
                                             {"name": "b", "type": "delay", "config": {"seconds": 0}}])
        done = await settled(c, await execute(c, workflow["id"], {}))
        assert [s["name"] for s in done["steps"]] == ["a", "b"], done
        lists = [(await c.get(path)).json() for path in
                 (f"/api/v1/workflows/{workflow['id']}/executions", "/api/v1/executions")]
    for listed in lists:
        [row] = [e for e in (listed if isinstance(listed, list) else listed["data"]) if e["id"] == done["id"]]
        assert row["steps"] == done["steps"], row
    query = "query($w: ID!) { executions(workflowId: $w) { edges { node { id steps { name status } } } } }"
    answer = await tenant.graphql(query, {"w": workflow["id"]})
    [node] = [e["node"] for e in answer["data"]["executions"]["edges"]]
    assert node["steps"] == [{"name": "a", "status": "completed"}, {"name": "b", "status": "completed"}], answer
