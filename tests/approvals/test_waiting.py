"""Agents that wait: `GET /actions/{id}?wait=N` and `action(id, wait:)` answer when the action is
decided (on any replica, through the bus) or, after N seconds, with the action still pending."""

from __future__ import annotations

import asyncio
import time

import httpx

from models.events import Event
from tests.approvals.helpers import EMAIL, approve, make_policy, propose
from tests.conftest import DATABASE_URL, REDIS_URL, Tenant, free_port
from tests.processes import gatehouse_env, running

WAIT = "query($id: ID!, $wait: Int) { action(id: $id, wait: $wait) { status metadata } }"


async def test_long_poll_answers_within_a_second_of_a_decision_on_another_process(tenant: Tenant) -> None:
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, GATEHOUSE_INPROCESS_WORKERS="false")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        async with tenant.client() as c, httpx.AsyncClient(headers=tenant.headers, timeout=30) as other:
            await make_policy(c)
            action = await propose(c)
            waiting = asyncio.create_task(c.get(f"/actions/{action['actionId']}", params={"wait": 30}, timeout=40))
            await asyncio.sleep(1.0)
            assert not waiting.done()
            decided = await other.post(f"http://127.0.0.1:{port}/api/v1/approvals/apr_{action['actionId'][4:]}/approve")
            assert decided.status_code == 200, decided.text
            decided_at = time.monotonic()
            answer = await waiting
            assert time.monotonic() - decided_at < 1.0
    assert answer.status_code == 200 and answer.json()["status"] == "approved"


async def test_timeout_answers_the_pending_action(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await make_policy(c)
        action = await propose(c)
        started = time.monotonic()
        answer = await c.get(f"/api/v1/actions/{action['actionId']}?wait=1")
        assert 0.9 <= time.monotonic() - started < 3
        assert answer.status_code == 200 and answer.json()["status"] == "pending_approval"
        decided = (await c.get(f"/actions/{action['actionId']}?wait=0")).json()
        assert decided["status"] == "pending_approval"


async def test_wait_out_of_range_is_400(tenant: Tenant) -> None:
    async with tenant.client() as c:
        action = await propose(c)
        for wait in ("61", "-1", "abc", "1.5"):
            bad = await c.get(f"/actions/{action['actionId']}", params={"wait": wait})
            assert bad.status_code == 400 and set(bad.json()) == {"error", "message"}, (wait, bad.text)
        assert (await c.get("/actions/act_missing?wait=5")).status_code == 404
    for wait in (61, -1):
        bad = await tenant.graphql(WAIT, {"id": action["actionId"], "wait": wait})
        assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


async def test_graphql_wait_and_an_already_decided_action(tenant: Tenant) -> None:
    async with tenant.client() as c:
        await make_policy(c)
        action = await propose(c, metadata={"run": "r-1"})
        waiting = asyncio.create_task(tenant.graphql(WAIT, {"id": action["actionId"], "wait": 20}))
        await asyncio.sleep(0.5)
        await approve(c, action["actionId"])
        answer = await asyncio.wait_for(waiting, 5)
        assert answer["data"]["action"] == {"status": "approved", "metadata": {"run": "r-1"}}
        started = time.monotonic()
        again = await c.get(f"/actions/{action['actionId']}?wait=30")
        assert again.json()["status"] == "approved" and time.monotonic() - started < 1


async def test_metadata_is_echoed_in_every_event_of_the_action(tenant: Tenant) -> None:
    metadata = {"runId": "run_42", "step": 3, "tags": ["billing"]}
    async with tenant.client() as c:
        await make_policy(c)
        action = await propose(c, metadata=metadata)
        await approve(c, action["actionId"])
        used = await c.post(f"/actions/{action['actionId']}/consume", json={"params": EMAIL["params"]})
        assert used.status_code == 200
        assert (await c.get(f"/actions/{action['actionId']}")).json()["metadata"] == metadata
        too_big = await c.post("/api/v1/actions", json={**EMAIL, "metadata": {"x": "y" * 20_000}})
        assert too_big.status_code == 400 and "metadata" in too_big.json()["message"]
        not_object = await c.post("/api/v1/actions", json={**EMAIL, "metadata": [1]})
        assert not_object.status_code == 400
    proposed = await tenant.graphql("mutation($i: ProposeActionInput!) { proposeAction(input: $i) { action { "
                                    "metadata } } }", {"i": {**EMAIL, "metadata": metadata}})
    assert proposed["data"]["proposeAction"]["action"]["metadata"] == metadata
    events = await Event.filter(organization_id=tenant.organization_id).order_by("seq")
    types = [e.type for e in events if e.data.get("actionId") == action["actionId"]]
    assert types == ["action.pending_approval", "action.approved", "action.grant_consumed"]
    assert all(e.data["metadata"] == metadata for e in events if e.data.get("actionId") == action["actionId"])
