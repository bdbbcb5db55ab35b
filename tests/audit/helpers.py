"""What the audit tests share: reading a tenant's trail over REST and waiting for the sealer."""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise import connections

from tests.conftest import Tenant

SEAL_WAIT_SECONDS = 10.0


async def verified(tenant: Tenant, **body: str) -> dict[str, Any]:
    """`POST /api/v1/audit/verify` once the sealer has sealed every entry of the tenant."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SEAL_WAIT_SECONDS
    async with tenant.client() as c:
        while True:
            response = await c.post("/api/v1/audit/verify", json=body)
            assert response.status_code == 200, response.text
            report: dict[str, Any] = response.json()
            if report["pending"] == 0 or loop.time() > deadline:
                assert report["pending"] == 0, report
                return report
            await asyncio.sleep(0.05)


async def entries(tenant: Tenant, **filters: str) -> list[dict[str, Any]]:
    """Every entry of the tenant's trail matching `filters`, following the cursor, newest first."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200, **filters}
    async with tenant.client() as c:
        while True:
            response = await c.get("/api/v1/audit", params=params)
            assert response.status_code == 200, response.text
            found += response.json()
            cursor = response.headers.get("X-Next-Cursor")
            if not cursor:
                return found
            params["cursor"] = cursor


async def sql(statement: str, *args: Any) -> None:
    """Change the database behind the API's back, as an attacker with database access would."""
    await connections.get("default").execute_query(statement, list(args))
