"""Workflows in the embedded mode: SQLite, the runner inside `gatehouse serve`, a two-step run
(delay, then an http_request to a local server) completed and readable."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson

from tests.conftest import free_port
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.processes import gatehouse_env, run_cli, running


async def _finished(c: httpx.AsyncClient, execution_id: str) -> dict:
    deadline = time.monotonic() + 15
    while True:
        execution = (await c.get(f"/api/v1/executions/{execution_id}")).json()
        if execution["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return dict(execution)
        await asyncio.sleep(0.25)


async def test_a_workflow_runs_on_sqlite_inside_the_server(tmp_path: Path) -> None:
    env = gatehouse_env(DATABASE_URL=f"sqlite://{tmp_path}/gatehouse.db", GATEHOUSE_ENCRYPTION_KEYS="",
                        GATEHOUSE_ALLOW_PRIVATE_TARGETS="true")
    port = free_port()
    api = CustomerApi()
    async with serving(api):
        steps = [{"name": "pause", "type": "delay", "config": {"seconds": 0.3}},
                 {"name": "call", "type": "http_request",
                  "config": {"method": "POST", "url": f"{api.base_url}/echo", "body": {"n": "{{ input.n }}"}}}]
        with running("serve", "--port", str(port), env=env, port=port):
            key = orjson.loads(run_cli("create-org", "solo", "--json", env=env).stdout)["apiKey"]
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                         headers={"Authorization": f"Bearer {key}"}) as c:
                created = await c.post("/api/v1/workflows", json={"name": "w", "definition": {"steps": steps}})
                assert created.status_code == 201, created.text
                workflow = created.json()
                started = (await c.post(f"/api/v1/workflows/{workflow['id']}/execute",
                                        json={"input": {"n": 7}})).json()
                execution = await _finished(c, started["executionId"])
    assert execution["status"] == "completed", execution
    assert [s["status"] for s in execution["steps"]] == ["completed", "completed"]
    assert orjson.loads(api.requests[0].body) == {"n": 7}
    assert api.requests[0].headers["Idempotency-Key"] == f"{started['executionId']}:call"
