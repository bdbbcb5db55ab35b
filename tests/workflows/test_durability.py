"""Workflow durability: a worker killed mid-step, cancel, retry from the failed step, concurrency.

The kill test runs a `gatehouse serve` and a `gatehouse worker` subprocess on their own database,
so the in-process test server's runner cannot take the execution over in their place. The others
use the in-process test server and its in-process runner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from aiohttp import web

from app.core.settings import Settings
from app.services import open_services
from app.workers.workflows import workflow_runner
from models.db import pg_listen
from models.events import Event
from models.workflows import Execution
from resolvers.workflows import hints
from resolvers.workflows.executions import NOTIFY_CHANNEL
from tests.conftest import PG_ROOT, REDIS_URL, TEST_DB, Tenant, free_port
from tests.connectors.fakes.base import FakeProvider, json_response, serving
from tests.processes import gatehouse_env, run_cli, running
from tests.workflows.helpers import create_workflow, execute, settled

PROCS_DB = f"{TEST_DB}_wfprocs"


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


class Endpoints(FakeProvider):
    """Local endpoints the workflow steps call; every request is recorded by path (FakeProvider).

    `/fast/{name}` answers at once; `/slow/{name}` sleeps `slow_seconds` on its first call (fast after),
    noticing when the caller hangs up; `/flaky/{name}` answers 400 on its first call, 200 after;
    `/busy/{name}` takes `busy_seconds` every time and records when each call entered and left.
    """

    def __init__(self, slow_seconds: float = 5.0, busy_seconds: float = 1.0) -> None:
        super().__init__()
        self.slow_seconds, self.busy_seconds = slow_seconds, busy_seconds
        self.hung_up: list[float] = []  # when the caller closed a slow call's connection
        self.spans: list[tuple[float, float]] = []
        self.app.router.add_route("*", "/fast/{name}", self.fast)
        self.app.router.add_route("*", "/slow/{name}", self.slow)
        self.app.router.add_route("*", "/flaky/{name}", self.flaky)
        self.app.router.add_route("*", "/busy/{name}", self.busy)

    def calls(self, path: str) -> list[Any]:
        return [seen for seen in self.requests if seen.path == path]

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def fast(self, request: web.Request) -> web.Response:
        return json_response({"path": request.path, "call": len(self.calls(request.path))})

    async def slow(self, request: web.Request) -> web.Response:
        if len(self.calls(request.path)) == 1:
            deadline = time.monotonic() + self.slow_seconds
            try:
                while time.monotonic() < deadline:
                    transport = request.transport
                    if transport is None or transport.is_closing():
                        self.hung_up.append(time.monotonic())
                        break
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                self.hung_up.append(time.monotonic())
                raise
        return json_response({"path": request.path, "call": len(self.calls(request.path))})

    async def flaky(self, request: web.Request) -> web.Response:
        if len(self.calls(request.path)) == 1:
            return json_response({"error": "bad request"}, status=400)
        return json_response({"path": request.path, "call": len(self.calls(request.path))})

    async def busy(self, request: web.Request) -> web.Response:
        entered = time.monotonic()
        await asyncio.sleep(self.busy_seconds)
        self.spans.append((entered, time.monotonic()))
        return json_response({"path": request.path})


def http_step(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "http_request", "config": {"method": "POST", "url": url, "body": {}}, **extra}


# ------------------------------------------------------------------- a worker killed mid-step


@pytest.fixture
async def procs_db() -> AsyncIterator[str]:
    conn = await asyncpg.connect(f"{PG_ROOT}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PROCS_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{PROCS_DB}"')
    finally:
        await conn.close()
    yield f"{PG_ROOT}/{PROCS_DB}"


async def status_in(database_url: str, execution_id: str) -> str | None:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval("SELECT status FROM executions WHERE id = $1", execution_id)  # type: ignore[no-any-return]
    finally:
        await conn.close()


def _organization_on(procs_db: str) -> tuple[dict[str, str], str]:
    """The environment of a serve and worker pair on `procs_db` (2 s leases), and a new organization's key."""
    env = gatehouse_env(
        DATABASE_URL=procs_db, REDIS_URL=REDIS_URL, GATEHOUSE_ALLOW_PRIVATE_TARGETS="true",
        GATEHOUSE_INPROCESS_WORKERS="false", GATEHOUSE_WORKFLOW_LEASE_SECONDS="2", GATEHOUSE_DB_POOL_SIZE="4",
        GATEHOUSE_LOG_JSON="false",
    )
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    created = run_cli("create-org", "acme", "--plan", "enterprise", "--json", env=env)
    assert created.returncode == 0, created.stderr
    return env, str(orjson.loads(created.stdout)["apiKey"])


async def _worker_killed_mid_call(
    procs_db: str, endpoints: Endpoints, steps: Callable[[], list[dict[str, Any]]], slow_path: str
) -> tuple[str, dict[str, Any]]:
    """`serve` and an execution of `steps()` (made once `endpoints` serve); a worker SIGKILLed once
    `slow_path` is called (no clean shutdown: its lease is left to expire), then another worker until
    the execution ends. The execution's id and its final read."""
    env, key = _organization_on(procs_db)
    port = free_port()
    async with serving(endpoints):
        with running("serve", "--port", str(port), env=env, port=port):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": key},
                                         timeout=10) as c:
                execution_id = await execute(c, (await create_workflow(c, steps()))["id"])
                with running("worker", env=env) as first:
                    await eventually(lambda: len(endpoints.calls(slow_path)) == 1, within=30)
                    first.kill()
                    first.wait()
                assert await status_in(procs_db, execution_id) == "running"
                with running("worker", env=env):
                    await eventually(lambda: _finished(procs_db, execution_id), within=30, interval=0.1)
                response = await c.get(f"/api/v1/executions/{execution_id}")
    assert response.status_code == 200, response.text
    return execution_id, response.json()


async def test_killed_worker_step_is_run_again_with_the_same_key(procs_db: str) -> None:
    endpoints = Endpoints(slow_seconds=5.0)
    execution_id, execution = await _worker_killed_mid_call(procs_db, endpoints, lambda: [
        http_step("step1", endpoints.url("/fast/step1")),
        http_step("step2", endpoints.url("/slow/step2"), timeoutMs=30_000),
        http_step("step3", endpoints.url("/fast/step3")),
    ], "/slow/step2")
    assert execution["status"] == "completed", execution
    assert len(endpoints.calls("/fast/step1")) == 1
    assert len(endpoints.calls("/fast/step3")) == 1
    step2_calls = endpoints.calls("/slow/step2")
    assert len(step2_calls) == 2
    assert [seen.headers["Idempotency-Key"] for seen in step2_calls] == [f"{execution_id}:step2"] * 2
    steps = {step["name"]: step for step in execution["steps"]}
    assert steps["step2"]["attempts"] == 2
    assert steps["step2"]["status"] == "completed"
    assert steps["step1"]["attempts"] == 1
    assert steps["step3"]["attempts"] == 1


async def test_a_step_whose_worker_died_is_not_started_past_its_attempts(procs_db: str) -> None:
    """`retry.maxAttempts` bounds how often a step is started, whatever stopped its passes: with 1, a
    step whose worker was killed mid-call is failed on takeover, not called again. (A pass that
    crashed after the call, on an answer it could not record, called the provider at every lease.)"""
    endpoints = Endpoints(slow_seconds=5.0)
    _, execution = await _worker_killed_mid_call(procs_db, endpoints, lambda: [
        http_step("once", endpoints.url("/slow/once"), timeoutMs=30_000, retry={"maxAttempts": 1}),
        http_step("after", endpoints.url("/fast/after")),
    ], "/slow/once")
    assert execution["status"] == "failed", execution
    assert "stopped before recording an outcome, 1 attempt of 1; it is not started again" in execution["error"]
    assert len(endpoints.calls("/slow/once")) == 1 and endpoints.calls("/fast/after") == []


async def _finished(database_url: str, execution_id: str) -> bool:
    return await status_in(database_url, execution_id) in ("completed", "failed", "cancelled")


# -------------------------------------------------------------------------------------- cancel


async def test_cancel_interrupts_the_running_call(tenant: Tenant) -> None:
    endpoints = Endpoints(slow_seconds=10.0)
    async with serving(endpoints), tenant.client() as c:
        workflow = await create_workflow(c, [
            http_step("first", endpoints.url("/fast/first")),
            http_step("wait", endpoints.url("/slow/wait"), timeoutMs=60_000),
            http_step("after", endpoints.url("/fast/after")),
        ])
        execution_id = await execute(c, workflow["id"])
        await eventually(lambda: len(endpoints.calls("/slow/wait")) == 1, within=10)
        retried = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "retry"})
        assert retried.status_code == 409, retried.text  # a running execution cannot be retried
        asked = time.monotonic()
        cancelled = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        await eventually(lambda: _status_is(execution_id, "cancelled"), within=1.0)
        await eventually(lambda: bool(endpoints.hung_up), within=2.0)
        assert endpoints.hung_up[0] - asked < 2.0
        await asyncio.sleep(1.5)
        execution = await settled(c, execution_id)
        again = await c.post(f"/api/v1/executions/{execution_id}", json={"action": "cancel"})
    assert execution["status"] == "cancelled"
    assert endpoints.calls("/fast/after") == []
    assert len(endpoints.calls("/slow/wait")) == 1
    steps = {step["name"]: step for step in execution["steps"]}
    assert steps["first"]["status"] == "completed"
    assert steps["wait"]["status"] == "cancelled"
    assert "after" not in steps
    assert again.status_code == 409, again.text


async def _status_is(execution_id: str, status: str) -> bool:
    return (await Execution.get(id=execution_id)).status == status


# --------------------------------------------------------------------------------------- retry


async def test_retry_runs_again_from_the_failed_step(tenant: Tenant) -> None:
    endpoints = Endpoints()
    async with serving(endpoints), tenant.client() as c:
        steps = [http_step("one", endpoints.url("/fast/one")), http_step("two", endpoints.url("/flaky/two")),
                 http_step("three", endpoints.url("/fast/three"))]
        workflow = await create_workflow(c, steps)
        failed = await settled(c, await execute(c, workflow["id"]))
        assert failed["status"] == "failed", failed
        assert endpoints.calls("/fast/three") == []

        retried = await c.post(f"/api/v1/executions/{failed['id']}", json={"action": "retry"})
        assert retried.status_code == 200, retried.text
        assert retried.json()["id"] != failed["id"]
        assert retried.json()["retryOf"] == failed["id"]
        second = await settled(c, retried.json()["id"])
        again = await c.post(f"/api/v1/executions/{failed['id']}", json={"action": "retry", "fromStart": True})

        steps[1] = http_step("two", endpoints.url("/flaky/again"))  # fails once more, for the run from the start
        other = await settled(c, await execute(c, (await create_workflow(c, steps))["id"]))
        assert other["status"] == "failed", other
        from_start = await c.post(f"/api/v1/executions/{other['id']}", json={"action": "retry", "fromStart": True})
        assert from_start.status_code == 200, from_start.text
        third = await settled(c, from_start.json()["id"])

        completed_again = await c.post(f"/api/v1/executions/{second['id']}", json={"action": "retry"})

    old = {step["name"]: step for step in failed["steps"]}
    assert old["two"]["status"] == "failed"
    assert second["status"] == "completed", second
    assert second["retryOf"] == failed["id"]
    new = {step["name"]: step for step in second["steps"]}
    assert new["one"]["reused"] is True
    assert new["one"]["output"] == old["one"]["output"]
    assert new["two"]["reused"] is False and new["two"]["status"] == "completed"
    assert new["three"]["reused"] is False and new["three"]["status"] == "completed"
    assert again.status_code == 409 and second["id"] in again.json()["message"], again.text  # retried once

    assert third["status"] == "completed", third
    assert third["retryOf"] == other["id"]
    assert third["id"] not in (failed["id"], second["id"], other["id"])
    assert all(step["reused"] is False for step in third["steps"])
    assert [step["status"] for step in third["steps"]] == ["completed"] * 3

    # one: both first runs and the run from the start; two, again: every run of their workflow;
    # three: the two retries
    assert len(endpoints.calls("/fast/one")) == 3
    assert len(endpoints.calls("/flaky/two")) == 2
    assert len(endpoints.calls("/flaky/again")) == 2
    assert len(endpoints.calls("/fast/three")) == 2
    assert completed_again.status_code == 409, completed_again.text


# --------------------------------------------------------------------------------- concurrency


async def test_concurrency_one_never_overlaps(tenant: Tenant) -> None:
    endpoints = Endpoints(busy_seconds=1.0)
    async with serving(endpoints), tenant.client() as c:
        workflow = await create_workflow(c, [http_step("busy", endpoints.url("/busy/it"))], concurrency=1)
        assert workflow["concurrency"] == 1
        first = await execute(c, workflow["id"])
        second = await execute(c, workflow["id"])
        done = [await settled(c, first), await settled(c, second, within=20)]
    assert [execution["status"] for execution in done] == ["completed", "completed"]
    assert len(endpoints.spans) == 2
    (_, first_left), (second_entered, _) = sorted(endpoints.spans)
    assert second_entered >= first_left


# ------------------------------------------------------------------------------- start hints


async def test_runners_racing_on_start_hints_run_each_execution_once(tenant: Tenant, settings: Settings) -> None:
    """Every runner hears each new execution's start hint and tries to claim it with its first
    step (hints.py): with the server's runner and two more on their own bus connections, each
    execution is still claimed, called and completed exactly once."""
    endpoints = Endpoints()
    stop = asyncio.Event()
    async with serving(endpoints), tenant.client() as c, open_services(settings) as extra:
        runners = [asyncio.create_task(workflow_runner(extra, stop)) for _ in range(2)]
        await asyncio.sleep(0.2)  # subscribed
        try:
            workflow = await create_workflow(c, [http_step("one", endpoints.url("/fast/one")),
                                                 http_step("two", endpoints.url("/fast/two"))])
            ids = await asyncio.gather(*(execute(c, workflow["id"], {"n": n}) for n in range(24)))
            done = [await settled(c, execution_id) for execution_id in ids]
        finally:
            stop.set()
            await asyncio.gather(*runners)
    assert [execution["status"] for execution in done] == ["completed"] * 24
    assert all([step["attempts"] for step in execution["steps"]] == [1, 1] for execution in done)
    assert len(endpoints.calls("/fast/one")) == 24 and len(endpoints.calls("/fast/two")) == 24
    keys = sorted(seen.headers["Idempotency-Key"] for seen in endpoints.calls("/fast/one"))
    assert keys == sorted(f"{execution_id}:one" for execution_id in ids)
    started = await Event.filter(type="workflow.started").values_list("data", flat=True)
    assert sorted(data["executionId"] for data in started) == sorted(ids)


async def test_a_new_execution_wakes_the_runners_by_notify_from_its_own_statement(tenant: Tenant,
                                                                                  settings: Settings) -> None:
    """On PostgreSQL (workflow_wake = notify) the statement that writes a new execution NOTIFYs its
    start hint, delivered at its commit: the same hint a bus wake carries; a big input, a plain wake."""
    assert settings.workflow_wake == "notify"
    payloads: asyncio.Queue[str] = asyncio.Queue()
    listener = await pg_listen(settings, NOTIFY_CHANNEL, payloads.put_nowait)
    endpoints = Endpoints()
    try:
        async with serving(endpoints), tenant.client() as c:
            workflow = await create_workflow(c, [http_step("one", endpoints.url("/fast/one"))])
            small = await execute(c, workflow["id"], {"n": 1})
            big = await execute(c, workflow["id"], {"text": "x" * (hints.MAX_HINTED_INPUT_BYTES + 1)})
            heard = [await asyncio.wait_for(payloads.get(), 5) for _ in range(2)]
            await settled(c, small)
            await settled(c, big)
    finally:
        await listener.close()
    execution = await Execution.get(id=small)
    assert hints.decode(heard[0].encode()) == hints.StartHint(
        small, tenant.organization_id, workflow["id"], execution.version_id, 0, {"n": 1})
    assert heard[1].encode() == hints.PLAIN_WAKE


def test_start_hints_name_only_fresh_executions_with_small_inputs() -> None:
    fresh = Execution(id="exec_1", organization_id="org_1", workflow_id="wf_1", version_id=7, lease=0,
                      input={"n": 1}, status="pending")
    hint = hints.decode(hints.encode(fresh))
    assert hint == hints.StartHint("exec_1", "org_1", "wf_1", 7, 0, {"n": 1})
    big = Execution(id="exec_2", organization_id="org_1", workflow_id="wf_1", version_id=7, lease=0,
                    input={"text": "x" * (hints.MAX_HINTED_INPUT_BYTES + 1)}, status="pending")
    retry = Execution(id="exec_3", organization_id="org_1", workflow_id="wf_1", version_id=7, lease=0,
                      input={}, status="pending", retry_of="exec_1")
    assert hints.encode(big) == hints.encode(retry) == hints.encode(None) == hints.PLAIN_WAKE
    assert hints.decode(hints.PLAIN_WAKE) is None
    assert hints.decode(b'{"e": "exec_1"}') is None and hints.decode(b"not json") is None
