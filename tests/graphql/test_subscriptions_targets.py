"""Subscribing to one action or one execution by id: an id the caller cannot read is refused at once.

actionUpdated(id:) and executionUpdated(id:) follow rows the server names (a proposal's actionId, an
execution's executionId): there is nothing to wait for before they exist. An id that is not in the
caller's organization (a typo, another organization's) is answered with an `error` frame for that
operation, as the GraphQL read of the id answers, and the connection stays open.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant
from tests.graphql.ws import Governance, GqlClient, gql_ws
from tests.workflows.helpers import create_workflow, execute

ACTION = "subscription($id: ID) { actionUpdated(id: $id) { seq event action { id status } } }"
EXECUTION = "subscription($id: ID) { executionUpdated(id: $id) { seq event } }"
STEPS = [{"name": "wait", "type": "delay", "config": {"seconds": 30}}]


async def _read_error(c: Any, field: str, row_id: str) -> dict[str, Any]:
    """The GraphQL read of `row_id` over HTTP: the wording a subscription's refusal must share."""
    answer = (await c.post("/graphql", json={"query": f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}",
                                             "variables": {"id": row_id}})).json()
    error: dict[str, Any] = answer["errors"][0]
    return error


async def _refused(ws: GqlClient, op_id: str) -> dict[str, Any]:
    frame = await ws.recv()
    assert (frame["type"], frame["id"]) == ("error", op_id), frame
    error: dict[str, Any] = frame["payload"][0]
    return error


@pytest.mark.parametrize("field", ["action", "execution"])
async def test_subscribing_to_an_id_not_in_the_organization_is_an_error_frame_not_silence(
    server: str, tenant: Tenant, other_tenant: Tenant, field: str
) -> None:
    async with tenant.client() as a, other_tenant.client() as b, gql_ws(server, other_tenant.key) as ws:
        if field == "action":
            gov_a, gov_b = Governance(a), Governance(b)
            await gov_a.enforce()
            await gov_b.enforce()
            theirs, own, query = (await gov_a.propose("send_email"))["actionId"], \
                (await gov_b.propose("send_email"))["actionId"], ACTION
        else:
            theirs = await execute(a, (await create_workflow(a, STEPS))["id"])
            own, query = await execute(b, (await create_workflow(b, STEPS))["id"]), EXECUTION
        typo = own[:-1] + ("x" if own[-1] != "x" else "y")
        for op_id, row_id in (("theirs", theirs), ("typo", typo)):
            await ws.subscribe(op_id, query, {"id": row_id})
            error = await _refused(ws, op_id)
            read = await _read_error(b, field, row_id)
            assert error["extensions"]["code"] == read["extensions"]["code"] == "NOT_FOUND", (error, read)
            assert error["message"] == read["message"] == f"{field} {row_id} not found"
        # the connection is still open, the ids are free again, and an id of its own is followed
        await ws.subscribe("theirs", query, {"id": own})
        if field == "action":
            assert (await b.post(f"/approve/{own}", json={})).status_code == 200
            while (got := (await ws.next_data(10))["payload"]["data"]["actionUpdated"])["event"] != "action.approved":
                pass
            assert (got["action"]["id"], got["action"]["status"]) == (own, "approved")
        else:
            assert (await b.post(f"/api/v1/executions/{own}", json={"action": "cancel"})).status_code == 200
            while (got := (await ws.next_data(10))["payload"]["data"]["executionUpdated"])["event"] != \
                    "workflow.cancelled":
                pass
