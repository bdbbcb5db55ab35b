"""Edit-then-approve (the original params stay in history, a triggered workflow sees the edited
ones, the decision says edited) and the rejection's reason in every read and event, both doors."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from models.events import Event
from models.governance import ActionHistory
from models.workflows import Execution
from tests.approvals.review_helpers import agent_and_reviewers, create_policy, propose, refused, snapshot
from tests.conftest import Tenant
from tests.connectors.fakes.base import FakeProvider, json_response, serving
from tests.workflows.helpers import create_workflow, settled


class Echo(FakeProvider):
    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_route("*", "/refund", self.echo)

    async def echo(self, request: web.Request) -> web.Response:
        return json_response({"ok": True})


async def _only_execution(workflow_id: str, within: float = 15.0) -> Execution:
    deadline = time.monotonic() + within
    while not (rows := await Execution.filter(workflow_id=workflow_id)):
        assert time.monotonic() < deadline, "no execution started"
        await asyncio.sleep(0.05)
    assert len(rows) == 1
    return rows[0]


async def test_rest_edit_then_approve_reaches_the_triggered_workflow(tenant: Tenant) -> None:
    agent, (alice, _bob, _carol) = await agent_and_reviewers(tenant)
    await create_policy(tenant, [{"when": {"actionType": "refund"}, "allowEdit": True}])
    echo = Echo()
    async with serving(echo), tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "pay", "type": "http_request", "config": {
            "url": f"{echo.base_url}/refund", "query": {"amount": "{{ trigger.params.amount }}"}}}],
            trigger={"event": "action.approved", "actionType": "refund"})
        proposed = await propose(agent, "refund", {"amount": 900, "currency": "EUR"})
        async with alice.client() as a:
            approved = await a.post(f"/actions/{proposed['actionId']}/approve",
                                    json={"comment": "capped", "params": {"amount": 100, "currency": "EUR"}})
        assert approved.status_code == 200, approved.text
        action = approved.json()["action"]
        assert action["status"] == "approved" and action["params"] == {"amount": 100, "currency": "EUR"}
        assert action["originalParams"] == {"amount": 900, "currency": "EUR"}
        assert action["decision"]["edited"] is True
        execution = await _only_execution(workflow["id"])
        assert (await settled(c, execution.id))["status"] == "completed"
        read = (await c.get(f"/actions/{proposed['actionId']}")).json()
    assert [seen.query for seen in echo.requests] == [{"amount": "100"}]
    assert read["params"]["amount"] == 100 and read["originalParams"]["amount"] == 900
    history = await ActionHistory.filter(action_id=proposed["actionId"]).order_by("created_at", "id")
    assert history[-1].kind == "approved" and history[-1].detail["edited"] is True
    assert history[-1].detail["previousParams"] == {"amount": 900, "currency": "EUR"}
    event = await Event.get(type="action.approved", organization_id=tenant.organization_id)
    assert event.data["params"]["amount"] == 100 and event.data["originalParams"]["amount"] == 900
    assert event.data["decision"]["edited"] is True


async def test_graphql_edit_and_edit_refused_where_not_allowed(tenant: Tenant) -> None:
    agent, (alice, bob, _carol) = await agent_and_reviewers(tenant)
    await create_policy(tenant, [{"when": {"actionType": "email"}, "allowEdit": True, "approvals": 1},
                                 {"when": {"actionType": "ban"}}])
    editable = await propose(agent, "email", {"to": "a@example.com"})
    query = """mutation($id: ID!, $p: JSON) { approveAction(approvalId: $id, params: $p) { status action {
      params originalParams decision { edited } history { kind detail } } } }"""
    out = await alice.graphql(query, {"id": editable["approvalId"], "p": {"to": "b@example.com"}})
    assert "errors" not in out, out
    action = out["data"]["approveAction"]["action"]
    assert action["params"] == {"to": "b@example.com"} and action["originalParams"] == {"to": "a@example.com"}
    assert action["decision"]["edited"] is True and action["history"][-1]["detail"]["edited"] is True

    fixed = await propose(agent, "ban", {"user": "u1"})
    before = await snapshot()
    denied = await bob.graphql(query, {"id": fixed["approvalId"], "p": {"user": "u2"}})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN" and "allowEdit" in denied["errors"][0]["message"]
    async with bob.client() as c:
        refused(await c.post(f"/approvals/{fixed['approvalId']}/approve", json={"params": {"user": "u2"}}),
                403, "FORBIDDEN", "allowEdit")
        refused(await c.post(f"/approvals/{editable['approvalId']}/approve", json={"params": "x"}),
                400, "VALIDATION_ERROR")
    assert await snapshot() == before


async def test_reject_reason_in_every_read_and_event(tenant: Tenant) -> None:
    agent, (alice, _bob, _carol) = await agent_and_reviewers(tenant)
    await create_policy(tenant, [{"when": {"actionType": "delete"}, "approvers": [alice.id]}])
    proposed = await propose(agent, "delete", {"id": "p1"})
    out = await alice.graphql('mutation($id: ID!) { rejectAction(approvalId: $id, reason: "post is not spam") '
                              '{ status } }', {"id": proposed["approvalId"]})
    assert out["data"]["rejectAction"]["status"] == "rejected"
    async with agent.client() as c:
        one = (await c.get(f"/actions/{proposed['actionId']}")).json()
        listed = (await c.get("/api/v1/actions", params={"status": "rejected"})).json()
    assert one["reason"] == "post is not spam" and listed[0]["reason"] == "post is not spam"
    read = await agent.graphql('query($id: ID!) { action(id: $id) { reason status approval { reason } } }',
                               {"id": proposed["actionId"]})
    assert "errors" not in read, read
    assert read["data"]["action"]["reason"] == "post is not spam"
    event = await Event.get(type="action.rejected", organization_id=tenant.organization_id)
    assert event.data["reason"] == "post is not spam" and event.data["actionId"] == proposed["actionId"]
