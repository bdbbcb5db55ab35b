"""Durability with real processes: a worker killed mid-send, and Redis stopped during a burst.

These run a `gatehouse serve` and `gatehouse worker` subprocess on their own database, so the
in-process test server's dispatcher cannot deliver in their place.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from tests.conftest import PG_ROOT, REDIS_URL, TEST_DB, free_port
from tests.processes import ROOT, gatehouse_env, run_cli, running
from tests.webhooks.receiver import Receiver, Reply, eventually, receiving

PROCS_DB = f"{TEST_DB}_procs"


@pytest.fixture
async def procs_db() -> str:
    conn = await asyncpg.connect(f"{PG_ROOT}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PROCS_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{PROCS_DB}"')
    finally:
        await conn.close()
    return f"{PG_ROOT}/{PROCS_DB}"


def stack_env(database_url: str, redis_url: str) -> dict[str, str]:
    return gatehouse_env(
        DATABASE_URL=database_url, REDIS_URL=redis_url, GATEHOUSE_ALLOW_PRIVATE_TARGETS="true",
        GATEHOUSE_INPROCESS_WORKERS="false", GATEHOUSE_DB_POOL_SIZE="4", GATEHOUSE_WEBHOOK_CLAIM_SECONDS="2",
        GATEHOUSE_WEBHOOK_CONCURRENCY="4", GATEHOUSE_LOG_JSON="false",
    )


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env)


@contextmanager
def stopped_at_end(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def admin_client(env: dict[str, str], port: int) -> httpx.AsyncClient:
    done = run_cli("create-org", "acme", "--plan", "enterprise", "--json", env=env)
    assert done.returncode == 0, done.stderr
    key = orjson.loads(done.stdout)["apiKey"]
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": key}, timeout=10)


async def all_delivered(c: httpx.AsyncClient, hook_id: str, expected: int) -> bool:
    response = await c.get(f"/api/v1/webhooks/{hook_id}/deliveries", params={"limit": 200, "status": "succeeded"})
    return response.status_code == 200 and len(response.json()) == expected


async def hook_with_tests(c: httpx.AsyncClient, receiver: Receiver, count: int) -> dict[str, Any]:
    """A webhook to `receiver` with `count` test deliveries queued (sent once a worker runs)."""
    hook = (await c.post("/api/v1/webhooks", json={"name": "q", "url": receiver.url, "events": ["*"]})).json()
    for _ in range(count):
        assert (await c.post(f"/api/v1/webhooks/{hook['id']}/test")).status_code == 202
    return dict(hook)


def assert_no_loss_and_stable_ids(receiver: Receiver, expected: int) -> None:
    """Every event arrived; a duplicate (at least once) carries the same delivery id as the first."""
    by_event: dict[str, set[str]] = {}
    for request in receiver.requests:
        by_event.setdefault(request.json["id"], set()).add(request.delivery_id)
    assert len(by_event) == expected
    assert all(len(ids) == 1 for ids in by_event.values())


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as r:
        yield r


async def test_killed_worker_loses_nothing(procs_db: str, receiver: Receiver) -> None:
    env = stack_env(procs_db, REDIS_URL)
    assert run_cli("migrate", env=env).returncode == 0
    receiver.default = Reply(200, delay=0.4)  # keep deliveries in flight when the worker dies
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        async with await admin_client(env, port) as c:
            hook = await hook_with_tests(c, receiver, 24)
            with stopped_at_end(start_worker(env)) as first:
                await eventually(lambda: len(receiver.requests) >= 6, within=30)
                first.kill()  # SIGKILL: no clean shutdown, claims are left to expire
                first.wait()
            in_flight_when_killed = len(receiver.requests)
            with stopped_at_end(start_worker(env)):
                await eventually(lambda: all_delivered(c, hook["id"], 24), within=60, interval=0.3)
    assert in_flight_when_killed < 24
    assert len(receiver.requests) > 24  # the sends the kill cut off were made again, so duplicates were checked
    assert_no_loss_and_stable_ids(receiver, 24)


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
    )
    with stopped_at_end(proc):
        yield proc


async def wait_redis(port: int) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis(port=port)
    try:
        await eventually(lambda: _ping(client), within=10)
    finally:
        await client.aclose()


async def _ping(client: object) -> bool:
    try:
        return bool(await client.ping())  # type: ignore[attr-defined]
    except Exception:
        return False


async def test_redis_outage_during_a_burst_delivers_everything(procs_db: str, receiver: Receiver) -> None:
    """Test events go straight to deliveries; webhook.disabled events (hooks answered 410) go
    through the outbox relay and its fan-out: both paths must work while Redis is away."""
    redis_port = free_port()
    env = stack_env(procs_db, f"redis://127.0.0.1:{redis_port}/0")
    assert run_cli("migrate", env=env).returncode == 0
    port = free_port()
    gone_url = receiver.url.replace("/hook", "/gone")
    with redis_server(redis_port) as redis_proc:
        await wait_redis(redis_port)
        with running("serve", "--port", str(port), env=env, port=port), stopped_at_end(start_worker(env)):
            async with await admin_client(env, port) as c:
                body = {"name": "main", "url": receiver.url, "events": ["webhook.disabled"]}
                hook = (await c.post("/api/v1/webhooks", json=body)).json()

                async def burst(count: int) -> None:
                    for _ in range(count):
                        await c.post(f"/api/v1/webhooks/{hook['id']}/test")
                        gone_hook = {**body, "url": gone_url, "events": ["webhook.test"]}
                        gone = await c.post("/api/v1/webhooks", json=gone_hook)
                        assert (await c.post(f"/api/v1/webhooks/{gone.json()['id']}/test")).status_code == 202

                await burst(5)
                redis_proc.terminate()
                redis_proc.wait()
                await burst(10)  # with Redis down: no wake-ups, only polling
                await eventually(lambda: all_delivered(c, hook["id"], 30), within=60, interval=0.3)
                with redis_server(redis_port):
                    await wait_redis(redis_port)
                    await burst(5)
                    await eventually(lambda: all_delivered(c, hook["id"], 40), within=60, interval=0.3)
    assert_no_loss_and_stable_ids(receiver, 40)
    assert len(receiver.gone) == 20
    assert sum(1 for r in receiver.requests if r.json["event"] == "webhook.disabled") == 20




async def test_a_queue_that_outlasts_its_lease_sends_each_delivery_once(procs_db: str, receiver: Receiver) -> None:
    """One sender, leases of 2 s, a receiver taking half a second: the dispatcher leases ahead more
    than it can send before those leases end. A delivery still queued when its lease may end is not
    sent by that lease (before: leased again while queued, it went out twice)."""
    env = {**stack_env(procs_db, REDIS_URL), "GATEHOUSE_WEBHOOK_CONCURRENCY": "1"}
    assert run_cli("migrate", env=env).returncode == 0
    receiver.default = Reply(200, delay=0.5)
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        async with await admin_client(env, port) as c:
            hook = await hook_with_tests(c, receiver, 10)
            with stopped_at_end(start_worker(env)):
                await eventually(lambda: all_delivered(c, hook["id"], 10), within=60, interval=0.3)
    assert_no_loss_and_stable_ids(receiver, 10)
    assert len(receiver.requests) == 10, "a delivery was sent twice"
