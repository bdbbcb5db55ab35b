"""An execution is retried at most once: a double submit must not run the workflow's side effects
twice. The first retry wins; every other one, concurrent or later, over REST or GraphQL, is 409
CONFLICT naming the retry that exists, and writes nothing. The retry itself may be retried (a chain).

On PostgreSQL (the in-process test server) and on SQLite (a `gatehouse serve` in the embedded mode).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from models.audit import AuditEntry
from models.workflows import Execution
from tests.conftest import Tenant, free_port
from tests.processes import gatehouse_env, run_cli, running
from tests.workflows.helpers import create_workflow, execute, settled

PAUSE = [{"name": "pause", "type": "delay", "config": {"seconds": 60}}]
RETRY_FIELDS = "id status retryOf"


async def _cancelled_execution(c: httpx.AsyncClient) -> str:
    """A cancelled execution of a one-step workflow that waits a minute (so a retry never finishes)."""
    workflow = await create_workflow(c, PAUSE)
    execution_id = await execute(c, workflow["id"])
    await settled(c, execution_id, statuses=("waiting",))
    cancelled = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"})
    assert cancelled.status_code == 200, cancelled.text
    return execution_id


async def _retry_at_once(c: httpx.AsyncClient, execution_id: str, times: int) -> list[httpx.Response]:
    return list(await asyncio.gather(*(
        c.post(f"/api/v1/executions/{execution_id}", json={"action": "retry"}) for _ in range(times))))


def _refused_for(answer: httpx.Response, old_id: str, retry_id: str) -> bool:
    body = answer.json()
    return (answer.status_code == 409 and body["error"] == "CONFLICT"
            and f"execution {old_id} was already retried as {retry_id}" in body["message"])


async def _retries_written(old_id: str) -> tuple[int, int]:
    """The executions retrying `old_id`, and the audit entries of retries, as stored."""
    return (await Execution.filter(retry_of=old_id).count(),
            await AuditEntry.filter(type="execution.retried").count())


async def test_concurrent_retries_start_one_execution(tenant: Tenant) -> None:
    async with tenant.client() as c:
        old_id = await _cancelled_execution(c)
        answers = await _retry_at_once(c, old_id, 10)
        won = [a for a in answers if a.status_code == 200]
        assert len(won) == 1, [(a.status_code, a.text) for a in answers]
        retry_id = won[0].json()["id"]
        later = await c.post(f"/api/v1/executions/{old_id}", json={"action": "retry", "fromStart": True})
        listed = (await c.get("/api/v1/executions")).json()
    assert won[0].json()["retryOf"] == old_id
    refused = [a for a in answers if a is not won[0]] + [later]
    assert all(_refused_for(a, old_id, retry_id) for a in refused), [a.text for a in refused]
    assert await _retries_written(old_id) == (1, 1)
    assert sorted(e["id"] for e in listed) == sorted([old_id, retry_id])


async def test_graphql_refuses_a_second_retry_and_allows_retrying_the_retry(tenant: Tenant) -> None:
    retry = f"mutation($id: ID!) {{ retryExecution(id: $id) {{ {RETRY_FIELDS} }} }}"
    async with tenant.client() as c:
        old_id = await _cancelled_execution(c)
        first = await tenant.graphql(retry, {"id": old_id})
        retry_id = first["data"]["retryExecution"]["id"]
        second = await tenant.graphql(retry, {"id": old_id})
        written = await _retries_written(old_id)
        cancelled = await c.post(f"/api/v1/executions/{retry_id}", json={"action": "cancel"})
        assert cancelled.status_code == 200, cancelled.text
        chained = await tenant.graphql(retry, {"id": retry_id})
    assert first["data"]["retryExecution"]["retryOf"] == old_id
    assert second["data"] is None
    assert second["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert f"execution {old_id} was already retried as {retry_id}" in second["errors"][0]["message"]
    assert written == (1, 1)
    assert chained["data"]["retryExecution"]["retryOf"] == retry_id, chained
    assert await Execution.filter(retry_of=retry_id).count() == 1


# ------------------------------------------------------------------------------ embedded (SQLite)


async def _waiting(c: httpx.AsyncClient, execution_id: str) -> None:
    deadline = time.monotonic() + 15
    while (await c.get(f"/api/v1/executions/{execution_id}")).json()["status"] != "waiting":
        assert time.monotonic() < deadline, f"execution {execution_id} never waited"
        await asyncio.sleep(0.2)


async def _embedded_retries(c: httpx.AsyncClient) -> dict[str, Any]:
    workflow = await create_workflow(c, PAUSE)
    old_id = await execute(c, workflow["id"])
    await _waiting(c, old_id)
    assert (await c.post(f"/api/v1/executions/{old_id}", json={"action": "cancel"})).status_code == 200
    answers = await _retry_at_once(c, old_id, 10)
    won = [a.json()["id"] for a in answers if a.status_code == 200]
    retry_id = won[0] if won else ""
    assert (await c.post(f"/api/v1/executions/{retry_id}", json={"action": "cancel"})).status_code == 200
    chained = await c.post(f"/api/v1/executions/{retry_id}", json={"action": "retry"})
    listed = (await c.get(f"/api/v1/workflows/{workflow['id']}/executions")).json()
    return {"old": old_id, "won": won, "answers": answers, "chained": chained, "listed": listed}


async def test_embedded_mode_retries_once(tmp_path: Path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db", GATEHOUSE_ENCRYPTION_KEYS="")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10,
                                     headers={"Authorization": f"Bearer {key}"}) as c:
            seen = await _embedded_retries(c)
    old_id, won, chained = seen["old"], seen["won"], seen["chained"]
    assert len(won) == 1, [(a.status_code, a.text) for a in seen["answers"]]
    refused = [a for a in seen["answers"] if a.status_code != 200]
    assert all(_refused_for(a, old_id, won[0]) for a in refused), [a.text for a in refused]
    assert chained.status_code == 200 and chained.json()["retryOf"] == won[0], chained.text
    assert sorted(e["id"] for e in seen["listed"]) == sorted([old_id, won[0], chained.json()["id"]])
