"""Test harness: a real PostgreSQL database, a real Redis and the app served over real HTTP.

The app runs under uvicorn inside the test session's event loop, so tests drive it with httpx
exactly as clients do and can still read the rows it wrote. Each test starts from empty tables.
Set GATEHOUSE_TEST_DB / GATEHOUSE_TEST_REDIS_DB to run several suites side by side.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
import uvicorn
from starlette.applications import Starlette
from tortoise import connections

from app.core.settings import Settings, load_settings
from app.main import create_app
from app.ratelimit import WINDOW_SECONDS
from models.db import close_database, migrate
from tests.connectors.fakes.smtp import make_certificate
from tests.processes import TEST_ENCRYPTION_KEYS

PG_ROOT = os.environ.get("GATEHOUSE_TEST_PG", "postgres://postgres@127.0.0.1:5432")
TEST_DB = os.environ.get("GATEHOUSE_TEST_DB", "gatehouse_test")
REDIS_URL = f"redis://127.0.0.1:6379/{os.environ.get('GATEHOUSE_TEST_REDIS_DB', '15')}"
DATABASE_URL = f"{PG_ROOT}/{TEST_DB}"


async def away_from_a_minute_boundary(margin: float = 5.0) -> None:
    """Rate budgets are fixed one-minute windows: start where the next requests share one (a test
    that straddled a boundary saw its 101st request counted in a fresh window and answered 200)."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < margin:
        await asyncio.sleep(left + 0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Where the test server finds Slack, Stripe and Discord: local fakes (tests/connectors/fakes) that
# tests/connectors/conftest.py starts on these ports.
PROVIDER_PORTS = {"slack": free_port(), "stripe": free_port(), "discord": free_port()}
# The local SMTP relays' certificate (tests/connectors/fakes/smtp.py), trusted by the test server.
SMTP_CERTIFICATE = make_certificate(Path(tempfile.mkdtemp(prefix="gatehouse-smtp-")))


async def recreate_database() -> None:
    conn = await asyncpg.connect(f"{PG_ROOT}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(
        database_url=DATABASE_URL,
        redis_url=REDIS_URL,
        allow_private_targets=True,
        inprocess_workers=True,
        log_json=False,
        log_level="WARNING",
        public_url="https://gatehouse.test",
        encryption_keys=TEST_ENCRYPTION_KEYS,
        slack_api_url=f"http://127.0.0.1:{PROVIDER_PORTS['slack']}/api",
        stripe_api_url=f"http://127.0.0.1:{PROVIDER_PORTS['stripe']}",
        discord_api_url=f"http://127.0.0.1:{PROVIDER_PORTS['discord']}/api/v10",
        connector_timeout_seconds=5,
        smtp_ca_file=str(SMTP_CERTIFICATE.cert_file),
    )


@pytest.fixture(scope="session")
async def server(settings: Settings) -> AsyncIterator[str]:
    """The app on a real port, on a fresh migrated database and an empty Redis database."""
    await recreate_database()
    await migrate(settings)
    await close_database()
    redis = aioredis.Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    await task


LocalApp = Callable[..., AbstractAsyncContextManager[tuple[str, Starlette]]]


@pytest.fixture
def local_app(settings: Settings, server: str) -> LocalApp:
    """Another replica in this process (same DB and Redis) with settings overridden, and its app."""

    @asynccontextmanager
    async def start(**overrides: object) -> AsyncIterator[tuple[str, Starlette]]:
        app = create_app(settings.model_copy(update={"inprocess_workers": False, **overrides}))
        uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None))
        task = asyncio.create_task(uv.serve())
        while not uv.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{uv.config.port}", app
        finally:
            uv.should_exit = True
            await task

    return start


TABLES_KEPT = {"tortoise_migrations"}


@pytest.fixture(autouse=True)
async def clean_tables(request: pytest.FixtureRequest) -> None:
    """Empty every table before each test that uses the server."""
    if "server" not in request.fixturenames:
        return
    request.getfixturevalue("server")
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
    names = [r["tablename"] for r in rows if r["tablename"] not in TABLES_KEPT]
    for attempt in range(5):  # in-process workers' transactions can deadlock with TRUNCATE's locks
        try:
            if names:
                await conn.execute_script(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
            return
        except asyncpg.exceptions.DeadlockDetectedError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as c:
        yield c


@dataclass
class Tenant:
    """An organization and its admin key, with clients authenticated as it."""

    organization_id: str
    key: str
    base_url: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def client(self, **kwargs: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=10, **kwargs)  # type: ignore[arg-type]

    async def graphql(self, query: str, variables: dict | None = None) -> dict:
        async with self.client() as c:
            response = await c.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()


MakeTenant = Callable[..., Awaitable[Tenant]]


@pytest.fixture
def make_tenant(server: str) -> MakeTenant:
    from resolvers.keys.organizations import create_organization

    async def make(name: str = "acme", plan: str = "free") -> Tenant:
        created = await create_organization(name, plan)
        return Tenant(created.organization.id, created.admin_key.secret, server)

    return make


@pytest.fixture
async def tenant(make_tenant: MakeTenant) -> Tenant:
    return await make_tenant("acme", "pro")


@pytest.fixture
async def other_tenant(make_tenant: MakeTenant) -> Tenant:
    return await make_tenant("globex", "pro")
