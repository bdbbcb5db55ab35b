"""Workflows end to end: a three-step run through an approval (acceptance 2), the governed delete story
with its webhook (acceptance 3), triggers that never start twice, and the execution subscription."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from models.events import Event, UnrelayedEvent
from models.workflows import Execution
from tests.conftest import Tenant
from tests.connectors.fakes.base import json_response, serving
from tests.connectors.fakes.customer import CUSTOMER_KEY, CustomerApi
from tests.connectors.test_custom_api import make_custom_connector
from tests.graphql.ws import gql_ws
from tests.webhooks.receiver import eventually, receiving
from tests.workflows.helpers import create_workflow, execute, settled

APPROVE = "mutation($id: ID!) { approveAction(approvalId: $id) { id status } }"
REJECT = "mutation($id: ID!, $reason: String) { rejectAction(approvalId: $id, reason: $reason) { id status reason } }"
EXECUTION_UPDATES = ("subscription($id: ID) { executionUpdated(id: $id) "
                     "{ seq event execution { id workflowId status data } } }")
CONTENT_ID, CONTENT_TYPE = "035e66eaf79", "0d45dc11733393648"


class GatedApi(CustomerApi):
    """The customer's API with a `/gate` endpoint that answers only once the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.app.router.add_route("*", "/gate", self.gated)

    async def gated(self, request: web.Request) -> web.Response:
        await self.gate.wait()
        return json_response({"opened": True})


@pytest.fixture
async def customer() -> AsyncIterator[GatedApi]:
    api = GatedApi()
    async with serving(api):
        yield api


def approval_of(action_id: str) -> str:
    return "apr_" + action_id[4:]


async def manual_policy(c: Any, action_type: str) -> dict[str, Any]:
    created = await c.post("/policy", json={"name": f"{action_type} needs a human", "mode": "enforce",
                                            "rules": [{"when": {"actionType": action_type}, "approval": "manual"}]})
    assert created.status_code == 201, created.text
    return dict(created.json())


async def waiting_action(execution_id: str) -> str:
    """The action the execution waits for, once it waits."""
    row = await Execution.get(id=execution_id)
    assert row.status == "waiting" and row.waiting_action_id, (row.status, row.waiting_action_id)
    return row.waiting_action_id


async def only_execution_of(workflow_id: str, within: float = 15.0) -> Execution:
    await eventually(lambda: Execution.filter(workflow_id=workflow_id).exists(), within=within)
    [execution] = await Execution.filter(workflow_id=workflow_id)
    return execution


async def relayed(seq: int | None = None) -> None:
    """Wait until the relay has taken (and committed) `seq`, or everything queued."""
    query = UnrelayedEvent.filter(seq=seq) if seq is not None else UnrelayedEvent.all()
    await eventually(lambda: _absent(query))


async def _absent(query: Any) -> bool:
    return not await query.exists()


# ---------------------------------------------------------------------------------- acceptance 2


async def _three_steps(tenant: Tenant, c: Any, api: CustomerApi) -> dict[str, Any]:
    connector = await make_custom_connector(tenant, api.base_url)
    await manual_policy(c, "publish_summary")
    return await create_workflow(c, [
        {"name": "fetch", "type": "http_request", "config": {
            "method": "POST", "url": f"{api.base_url}/echo", "query": {"doc": "{{ input.docId }}"},
            "body": {"doc": "{{ input.docId }}", "note": "kind {{ input.kind }}"}}},
        {"name": "remove", "type": "connector", "config": {
            "connectorId": connector, "action": "delete",
            "input": {"content": {"id": "{{ steps.fetch.output.body.query.doc }}",
                                  "content_type": "{{ input.kind }}"}}}},
        {"name": "publish", "type": "approval", "config": {
            "type": "publish_summary", "target": "summary:{{ input.docId }}",
            "params": {"deleted": "{{ steps.remove.output.body.contentId }}",
                       "status": "{{ steps.remove.output.status }}"}}},
    ])


async def test_three_steps_run_end_to_end_once_the_approval_is_given(tenant: Tenant, customer: GatedApi) -> None:
    async with tenant.client() as c:
        workflow = await _three_steps(tenant, c, customer)
        execution_id = await execute(c, workflow["id"], {"docId": CONTENT_ID, "kind": CONTENT_TYPE})
        waiting = await settled(c, execution_id, statuses=("waiting",))
        assert waiting["status"] == "waiting" and waiting["output"] is None and waiting["finishedAt"] is None
        assert [(s["name"], s["status"]) for s in waiting["steps"]] == [
            ("fetch", "completed"), ("remove", "completed"), ("publish", "waiting")]
        action_id = await waiting_action(execution_id)
        action = (await c.get(f"/api/v1/actions/{action_id}")).json()
        assert action["status"] == "pending_approval" and action["type"] == "publish_summary"
        assert action["params"] == {"deleted": CONTENT_ID, "status": 200}
        await asyncio.sleep(0.5)  # still waiting: nothing runs while the decision is pending
        assert (await Execution.get(id=execution_id)).status == "waiting"
        assert [r.path for r in customer.requests] == ["/echo", "/actions/delete"]

        approved = await tenant.graphql(APPROVE, {"id": approval_of(action_id)})
        assert approved["data"]["approveAction"]["status"] == "approved", approved
        done = await settled(c, execution_id)

    assert done["status"] == "completed", done
    assert done["error"] is None and done["finishedAt"] and done["currentStep"] == 3
    fetch, remove, publish = done["steps"]
    assert [(s["position"], s["name"], s["type"], s["status"], s["attempts"]) for s in done["steps"]] == [
        (0, "fetch", "http_request", "completed", 1), (1, "remove", "connector", "completed", 1),
        (2, "publish", "approval", "completed", 1)]
    # each step's input as resolved: templates filled in (defaults added), nothing left to render
    assert fetch["input"]["url"] == f"{customer.base_url}/echo" and fetch["input"]["method"] == "POST"
    assert fetch["input"]["query"] == {"doc": CONTENT_ID}
    assert fetch["input"]["body"] == {"doc": CONTENT_ID, "note": f"kind {CONTENT_TYPE}"}
    assert fetch["output"]["status"] == 200 and fetch["output"]["body"]["query"] == {"doc": CONTENT_ID}
    assert remove["input"] == {"connectorId": remove["input"]["connectorId"], "action": "delete",
                               "input": {"content": {"id": CONTENT_ID, "content_type": CONTENT_TYPE}}}
    assert remove["output"]["status"] == 200 and remove["output"]["body"]["contentId"] == CONTENT_ID
    assert remove["output"]["body"]["done"] == "delete"
    assert publish["input"]["type"] == "publish_summary" and publish["input"]["target"] == f"summary:{CONTENT_ID}"
    assert publish["input"]["params"] == {"deleted": CONTENT_ID, "status": 200}
    assert publish["output"]["actionId"] == action_id and publish["output"]["status"] == "approved"
    assert publish["output"]["decidedBy"]
    assert done["output"] == publish["output"]  # the execution's output is the last step's
    for step in done["steps"]:
        assert "{{" not in str(step["input"]) and step["error"] is None and step["finishedAt"]

    echo, delete = customer.requests
    assert echo.json == {"doc": CONTENT_ID, "note": f"kind {CONTENT_TYPE}"} and echo.query == {"doc": CONTENT_ID}
    assert echo.headers["Idempotency-Key"] == f"{execution_id}:fetch"
    assert delete.json == {"content": {"id": CONTENT_ID, "content_type": CONTENT_TYPE}}
    assert delete.headers["X-Customer-Key"] == CUSTOMER_KEY
    assert delete.headers["Idempotency-Key"] == f"{execution_id}:remove"
    assert CUSTOMER_KEY not in str(done)


async def test_a_rejected_approval_fails_the_step_and_the_execution(tenant: Tenant, customer: GatedApi) -> None:
    async with tenant.client() as c:
        workflow = await _three_steps(tenant, c, customer)
        execution_id = await execute(c, workflow["id"], {"docId": CONTENT_ID, "kind": CONTENT_TYPE})
        await settled(c, execution_id, statuses=("waiting",))
        action_id = await waiting_action(execution_id)
        rejected = await tenant.graphql(REJECT, {"id": approval_of(action_id), "reason": "summary is wrong"})
        assert rejected["data"]["rejectAction"]["status"] == "rejected", rejected
        done = await settled(c, execution_id)
    assert done["status"] == "failed", done
    assert done["output"] is None and action_id in done["error"] and "summary is wrong" in done["error"]
    assert [(s["name"], s["status"]) for s in done["steps"]] == [
        ("fetch", "completed"), ("remove", "completed"), ("publish", "failed")]
    assert done["steps"][2]["error"] == done["error"] and done["steps"][2]["attempts"] == 1
    assert len(customer.requests) == 2  # nothing ran again
    failed = await Event.filter(organization_id=tenant.organization_id, type="workflow.failed")
    assert [e.data["executionId"] for e in failed] == [execution_id]
    assert failed[0].data["step"] == "publish"


# ---------------------------------------------------------------------------------- acceptance 3


async def test_story_an_approved_delete_runs_the_customers_delete_once_and_reports(
    tenant: Tenant, customer: GatedApi
) -> None:
    connector = await make_custom_connector(tenant, customer.base_url, source="gatehouse")
    async with receiving() as receiver, tenant.client() as c:
        policy = await manual_policy(c, "delete_content")
        workflow = await create_workflow(c, [{"name": "delete", "type": "connector", "config": {
            "connectorId": connector, "action": "delete",
            "input": {"content": {"id": "{{ trigger.params.contentId }}",
                                  "content_type": "{{ trigger.params.contentType }}"}}}}],
            trigger={"event": "action.approved", "actionType": "delete_*"})
        hook = await c.post("/api/v1/webhooks", json={"name": "done", "url": receiver.url,
                                                      "events": ["workflow.completed"]})
        assert hook.status_code == 201, hook.text

        proposed = await c.post("/actions", json={
            "type": "delete_content", "actor": {"kind": "agent", "name": "moderation-bot"},
            "target": f"content:{CONTENT_ID}", "params": {"contentId": CONTENT_ID, "contentType": CONTENT_TYPE}})
        assert proposed.status_code == 201, proposed.text
        assert proposed.json()["status"] == "pending_approval" and proposed.json()["policyIds"] == [policy["id"]]
        action_id = proposed.json()["actionId"]
        await asyncio.sleep(0.5)  # nothing runs before a human decides
        assert customer.requests == [] and not await Execution.exists()

        approved = await tenant.graphql(APPROVE, {"id": proposed.json()["approvalId"]})
        assert approved["data"]["approveAction"]["status"] == "approved", approved

        execution = await only_execution_of(workflow["id"])
        done = await settled(c, execution.id)
        await eventually(lambda: receiver.requests)
        await asyncio.sleep(2.0)  # long enough for a second run or a second call to show up

    assert done["status"] == "completed", done
    assert done["trigger"]["actionId"] == action_id and done["trigger"]["event"] == "action.approved"
    [call] = customer.requests  # exactly one call to the customer's Delete endpoint
    assert call.method == "POST" and call.path == "/actions/delete"
    assert call.json == {"content": {"id": CONTENT_ID, "content_type": CONTENT_TYPE},
                         "custom": {"source": "gatehouse"}}
    assert call.headers["X-Customer-Key"] == CUSTOMER_KEY
    assert call.headers["Idempotency-Key"] == f"{execution.id}:delete"
    assert await Execution.filter(workflow_id=workflow["id"]).count() == 1

    assert len(receiver.unique_deliveries()) == 1
    body = receiver.requests[0].json
    assert receiver.requests[0].headers["X-Webhook-Event"] == "workflow.completed"
    assert body["event"] == "workflow.completed" and body["timestamp"].endswith("Z")
    assert set(body["data"]) == {"workflowId", "executionId", "status", "output"}
    assert body["data"]["workflowId"] == workflow["id"] and body["data"]["executionId"] == execution.id
    assert body["data"]["status"] == "completed"
    assert body["data"]["output"] == done["output"] == done["steps"][0]["output"]
    assert body["data"]["output"]["status"] == 200 and body["data"]["output"]["body"]["contentId"] == CONTENT_ID
    assert CUSTOMER_KEY not in receiver.requests[0].body.decode()


# ------------------------------------------------------------------------------------- triggers


async def test_triggers_never_start_twice_nor_for_other_types_nor_once_deleted(
    tenant: Tenant, customer: GatedApi
) -> None:
    connector = await make_custom_connector(tenant, customer.base_url)
    async with tenant.client() as c:
        deleter = await create_workflow(c, [{"name": "delete", "type": "connector", "config": {
            "connectorId": connector, "action": "delete",
            "input": {"content": {"id": "{{ trigger.params.contentId }}", "content_type": "post"}}}}],
            trigger={"event": "action.approved", "actionType": "delete_*"})
        banner = await create_workflow(c, [{"name": "note", "type": "http_request", "config": {
            "url": f"{customer.base_url}/echo", "query": {"user": "{{ trigger.params.userId }}"}}}],
            trigger={"event": "action.approved", "actionType": ["ban_*", "mute_*"]})

        first = await c.post("/actions", json={"type": "delete_content", "actor": {"kind": "agent"},
                                               "params": {"contentId": "c1"}})
        assert first.json()["status"] == "approved", first.text  # no policy: approved at once
        execution = await only_execution_of(deleter["id"])
        assert (await settled(c, execution.id))["status"] == "completed"
        event = await Event.get(id=execution.trigger["eventId"])
        assert event.type == "action.approved" and event.data["actionId"] == first.json()["actionId"]
        assert execution.trigger_key == f"{deleter['id']}:{event.id}"
        await relayed()
        assert not await Execution.filter(workflow_id=banner["id"]).exists()  # ban_*/mute_* do not match

        await UnrelayedEvent.create(seq=event.seq)  # the relay hands the same event to the sinks again
        await relayed(event.seq)
        await asyncio.sleep(1.0)
        assert await Execution.filter(workflow_id=deleter["id"]).count() == 1
        assert [r.path for r in customer.requests] == ["/actions/delete"]

        assert (await c.delete(f"/api/v1/workflows/{deleter['id']}")).status_code == 200
        for kind, params in (("delete_content", {"contentId": "c2"}), ("ban_user", {"userId": "u1"})):
            proposed = await c.post("/actions", json={"type": kind, "actor": {"kind": "agent"}, "params": params})
            assert proposed.json()["status"] == "approved", proposed.text
        banned = await only_execution_of(banner["id"])  # the relay did pass these events on
        assert (await settled(c, banned.id))["status"] == "completed"
        await relayed()
        await asyncio.sleep(1.0)
    assert await Execution.filter(workflow_id=deleter["id"]).count() == 1  # the deleted one did not fire
    assert [r.path for r in customer.requests] == ["/actions/delete", "/echo"]
    assert customer.requests[1].query == {"user": "u1"}


# --------------------------------------------------------------------------------- subscription


async def test_execution_updated_pushes_step_progress(server: str, tenant: Tenant, customer: GatedApi) -> None:
    async with tenant.client() as c:
        workflow = await create_workflow(c, [
            {"name": "gate", "type": "http_request", "config": {"url": f"{customer.base_url}/gate"}},
            {"name": "echo", "type": "http_request", "config": {
                "url": f"{customer.base_url}/echo", "query": {"n": "{{ input.n }}"}}},
        ], concurrency=1)
        # the first execution holds the workflow's only slot at the gate, so the second stays pending
        # until the test has subscribed to it
        blocker = await execute(c, workflow["id"], {"n": 1})
        await eventually(lambda: customer.requests)
        watched = await execute(c, workflow["id"], {"n": 2})
        async with gql_ws(server, tenant.key) as ws:
            await ws.subscribe("1", EXECUTION_UPDATES, {"id": watched})
            await asyncio.sleep(0.3)
            assert (await Execution.get(id=watched)).status == "pending"
            customer.gate.set()
            updates = [(await ws.next_data(within=10))["payload"]["data"]["executionUpdated"] for _ in range(4)]
            with pytest.raises(TimeoutError):
                await ws.recv(within=0.5)
        assert (await settled(c, blocker))["status"] == "completed"
        done = await settled(c, watched)

    assert [u["event"] for u in updates] == ["workflow.started", "workflow.step_completed",
                                             "workflow.step_completed", "workflow.completed"]
    assert all(u["execution"]["id"] == watched and u["execution"]["workflowId"] == workflow["id"] for u in updates)
    assert [u["seq"] for u in updates] == sorted(u["seq"] for u in updates)
    assert [(u["execution"]["data"].get("step"), u["execution"]["status"]) for u in updates] == [
        (None, "running"), ("gate", "completed"), ("echo", "completed"), (None, "completed")]
    assert updates[1]["execution"]["data"]["attempts"] == 1 and updates[2]["execution"]["data"]["position"] == 1
    assert updates[3]["execution"]["data"]["output"] == done["output"]
    assert done["output"]["body"]["query"] == {"n": "2"}
