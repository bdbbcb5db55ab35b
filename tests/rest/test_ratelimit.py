"""Rate limits per key: headers on every answer, 429 past the budget, shared across replicas."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from tests.conftest import DATABASE_URL, REDIS_URL, Tenant, away_from_a_minute_boundary, free_port
from tests.processes import gatehouse_env, own_redis, running, until_redis_answers


async def test_headers_and_429_after_the_budget(tenant: Tenant) -> None:
    await away_from_a_minute_boundary()
    async with tenant.client() as c:
        answers = [await c.get("/api/v1/api-keys") for _ in range(101)]
    assert all(a.status_code == 200 for a in answers[:100])
    assert answers[0].headers["X-RateLimit-Limit"] == "100"
    assert answers[0].headers["X-RateLimit-Remaining"] == "99"
    assert int(answers[0].headers["X-RateLimit-Reset"]) > 0
    last = answers[100]
    assert last.status_code == 429 and last.json()["error"] == "RATE_LIMITED"
    assert 1 <= int(last.headers["Retry-After"]) <= 60
    assert last.headers["X-RateLimit-Remaining"] == "0"


async def test_limit_is_settable_per_key(tenant: Tenant) -> None:
    async with tenant.client() as c:
        small = (await c.post("/api/v1/api-keys", json={"name": "s", "scopes": ["admin"], "rateLimit": 3})).json()
    await away_from_a_minute_boundary()
    async with httpx.AsyncClient(base_url=tenant.base_url, headers={"x-api-key": small["key"]}) as c:
        codes = [(await c.get("/api/v1/api-keys")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


async def test_two_replicas_on_one_redis_share_the_budget(tenant: Tenant) -> None:
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, GATEHOUSE_INPROCESS_WORKERS="false")
    ports = [free_port(), free_port()]
    with running("serve", "--port", str(ports[0]), env=env, port=ports[0]), \
         running("serve", "--port", str(ports[1]), env=env, port=ports[1]):
        async with httpx.AsyncClient(headers=tenant.headers, timeout=10) as c:
            urls = [f"http://127.0.0.1:{ports[i % 2]}/api/v1/api-keys" for i in range(101)]
            await away_from_a_minute_boundary()
            answers = await asyncio.gather(*(c.get(u) for u in urls))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 100 and codes.count(429) == 1


async def test_concurrent_hits_of_two_keys_are_each_counted_once(tenant: Tenant) -> None:
    """Hits in flight together share a Redis round trip; each key's budget is still exact."""
    async with tenant.client() as c:
        made = [(await c.post("/api/v1/api-keys", json={"name": n, "scopes": ["admin"], "rateLimit": 30})).json()
                for n in ("a", "b")]
    clients = [httpx.AsyncClient(base_url=tenant.base_url, headers={"x-api-key": k["key"]}, timeout=10) for k in made]
    await away_from_a_minute_boundary()
    try:
        answers = await asyncio.gather(*(clients[i % 2].get("/api/v1/api-keys") for i in range(80)))
    finally:
        for client in clients:
            await client.aclose()
    by_key = [[a for i, a in enumerate(answers) if i % 2 == k] for k in (0, 1)]
    for answered in by_key:
        codes = [a.status_code for a in answered]
        assert codes.count(200) == 30 and codes.count(429) == 10
        remaining = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in answered if a.status_code == 200)
        assert remaining == list(range(30))  # every count from 1 to 30 handed out exactly once


async def test_without_redis_the_limit_falls_back_to_the_process(tenant: Tenant) -> None:
    """Redis unreachable (nothing listens on its port): requests are still served and limited."""
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=nowhere, GATEHOUSE_INPROCESS_WORKERS="false")
    async with tenant.client() as c:
        small = (await c.post("/api/v1/api-keys", json={"name": "s", "scopes": ["admin"], "rateLimit": 5})).json()
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        await away_from_a_minute_boundary()
        async with httpx.AsyncClient(headers={"x-api-key": small["key"]}, timeout=10) as c:
            answers = await asyncio.gather(*(c.get(f"http://127.0.0.1:{port}/api/v1/api-keys") for _ in range(7)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [429] * 2
    assert all("X-RateLimit-Limit" in a.headers for a in answers)


async def test_a_silent_redis_never_hangs_a_request(tenant: Tenant) -> None:
    """Redis accepts connections but never answers: requests are served within the command timeout,
    limited by this process, and the ones after the first do not wait again."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)  # read everything, answer nothing, until the client goes away
        writer.close()

    mute = await asyncio.start_server(silent, "127.0.0.1", 0)
    mute_port = mute.sockets[0].getsockname()[1]
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=f"redis://127.0.0.1:{mute_port}/0",
                        GATEHOUSE_INPROCESS_WORKERS="false")
    async with tenant.client() as c:
        small = (await c.post("/api/v1/api-keys", json={"name": "s", "scopes": ["admin"], "rateLimit": 3})).json()
    port = free_port()
    try:
        with running("serve", "--port", str(port), env=env, port=port):
            async with httpx.AsyncClient(headers={"x-api-key": small["key"]}, timeout=10) as c:
                url = f"http://127.0.0.1:{port}/api/v1/api-keys"
                await away_from_a_minute_boundary(margin=15)  # the first request may wait up to 5 s
                started = asyncio.get_running_loop().time()
                first = await c.get(url)
                first_took = asyncio.get_running_loop().time() - started
                started = asyncio.get_running_loop().time()
                rest = [await c.get(url) for _ in range(3)]
                rest_took = asyncio.get_running_loop().time() - started
    finally:
        mute.close()
    assert first.status_code == 200 and first_took < 5
    assert [a.status_code for a in rest] == [200, 200, 429]
    assert rest_took < 1.5  # no second wait for Redis within the retry interval


async def test_a_unix_socket_redis_counts_through_the_clients_script(tenant: Tenant, tmp_path: Path) -> None:
    """A URL the limiter's own connection does not open (a Unix socket) keeps redis-py's script
    call: the budget is exact, and the counts are in that Redis, not in the process's memory."""
    socket_path = tmp_path / "redis.sock"
    url = f"unix://{socket_path}?db=0"
    async with tenant.client() as c:
        small = (await c.post("/api/v1/api-keys", json={"name": "s", "scopes": ["admin"], "rateLimit": 4})).json()
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=url, GATEHOUSE_INPROCESS_WORKERS="false")
    port = free_port()
    with own_redis("--port", "0", "--unixsocket", str(socket_path)):
        await until_redis_answers(url)
        with running("serve", "--port", str(port), env=env, port=port):
            await away_from_a_minute_boundary()
            async with httpx.AsyncClient(headers={"x-api-key": small["key"]}, timeout=10) as c:
                answers = await asyncio.gather(*(c.get(f"http://127.0.0.1:{port}/api/v1/api-keys") for _ in range(6)))
        redis = aioredis.Redis.from_url(url)
        try:
            counted = [int(await redis.get(key)) for key in await redis.keys(f"gatehouse:rl:{small['id']}:*")]
        finally:
            await redis.aclose()
    assert sorted(a.status_code for a in answers) == [200] * 4 + [429] * 2
    assert sorted(int(a.headers["X-RateLimit-Remaining"]) for a in answers) == [0, 0, 0, 1, 2, 3]
    assert counted == [6]
