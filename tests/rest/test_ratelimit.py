"""Rate limits per key: headers on every answer, 429 past the budget, shared across replicas."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import DATABASE_URL, REDIS_URL, Tenant, free_port
from tests.processes import gatehouse_env, running


async def test_headers_and_429_after_the_budget(tenant: Tenant) -> None:
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
            answers = await asyncio.gather(*(c.get(u) for u in urls))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 100 and codes.count(429) == 1
