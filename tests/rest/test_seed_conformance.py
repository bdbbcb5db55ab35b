"""Seed documents (shared/seeds/) checked where the other suites do not: what a client written
against them sends, the way it sends it, answered as they describe. Each test names its section."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant
from tests.workflows.helpers import create_workflow, settled

DELAY = [{"name": "wait", "type": "delay", "config": {"seconds": 0}}]


async def test_002_execute_workflow_with_no_input_sent_as_null(tenant: Tenant) -> None:
    """Document 002, "Execute Workflow" and "SDK Examples": the Python snippet posts
    `json={'input': input_data}`, so `execute_workflow(wf, None)` sends `{"input": null}` (and the
    TypeScript one `JSON.stringify({ input: null })` the same). It was 400 "input: Input should be a
    valid dictionary" over REST, while GraphQL's `executeWorkflow(input: null)` ran it with `{}`."""
    async with tenant.client() as c:
        workflow = await create_workflow(c, DELAY)
        started = await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"input": None},
                               headers={"Content-Type": "application/json"})
        assert started.status_code == 202, started.text
        assert started.json()["status"] == "pending"
        execution = await settled(c, started.json()["executionId"])
    assert execution["status"] == "completed" and execution["input"] == {}
    by_graphql = await tenant.graphql("mutation($id: ID!) { executeWorkflow(id: $id, input: null) { id input } }",
                                      {"id": workflow["id"]})
    assert by_graphql["data"]["executeWorkflow"]["input"] == {}, by_graphql
    async with tenant.client() as c:
        wrong = await c.post(f"/api/v1/workflows/{workflow['id']}/execute", json={"input": ["not", "an", "object"]})
    assert wrong.status_code == 400 and wrong.json()["error"] == "VALIDATION_ERROR"


async def test_001_every_endpoint_under_the_002_prefix_with_its_header(tenant: Tenant) -> None:
    """Document 001's endpoints, bodies and `x-apaaikey` header, under document 002's `/api/v1` base (the
    root paths are walked by tests/rest/test_actions.py); and 002's routes take 001's header too."""
    policy_body = {"name": "Email Approval Required", "description": "All emails require human approval",
                   "mode": "enforce", "rules": [{"when": {"actionType": "send_email"}, "require": ["content_review"]}],
                   "status": "active"}
    email = {"type": "send_email", "actor": {"kind": "agent", "name": "marketing-bot", "provider": "openai"},
             "target": "user@example.com", "params": {"subject": "Welcome!", "body": "Thanks for signing up"}}
    evidence = {"checks": [{"name": "content_review", "pass": True, "note": "No threats detected",
                            "meta": {"scanner": "clamav", "version": "1.0.0"}}]}
    v1 = "/api/v1"
    async with httpx.AsyncClient(base_url=tenant.base_url, headers={"x-apaaikey": tenant.key}, timeout=10) as c:
        policy = await c.post(f"{v1}/policy", json=policy_body)
        first = await c.post(f"{v1}/actions", json=email)
        action_id = first.json()["actionId"]
        answers = [
            policy, first, await c.get(f"{v1}/actions/{action_id}"),
            await c.get(f"{v1}/actions", params={"status": "pending_approval", "limit": 50}),
            await c.post(f"{v1}/actions/{action_id}/evidence", json=evidence),
            await c.get(f"{v1}/policy"), await c.put(f"{v1}/policy/{policy.json()['id']}", json={"description": "x"}),
        ]
        [pending] = (await c.get(f"{v1}/approvals/pending")).json()
        answers.append(await c.post(f"{v1}/approvals/{pending['id']}/approve"))
        second = (await c.post(f"{v1}/actions", json=email)).json()
        answers.append(await c.post(f"{v1}/approvals/{second['approvalId']}/reject",
                                    json={"reason": "Content violates guidelines"}))
        answers.append(await c.delete(f"{v1}/policy/{policy.json()['id']}"))
        others = [await c.get(f"{v1}/{path}") for path in ("workflows", "credentials", "webhooks", "connectors")]
    assert [a.status_code for a in answers] == [201, 201, 200, 200, 200, 200, 200, 200, 200, 200], \
        [a.text for a in answers]
    assert answers[3].json()[0]["actionId"] == action_id and answers[4].json()["readyForApproval"] is True
    assert answers[7].json()["status"] == "approved" and answers[8].json()["reason"] == "Content violates guidelines"
    assert answers[9].json()["status"] == "archived"
    assert all(a.headers["X-RateLimit-Limit"] == "100" for a in answers + others)
    assert [o.status_code for o in others] == [200] * 4 and all(o.json() == [] for o in others)
