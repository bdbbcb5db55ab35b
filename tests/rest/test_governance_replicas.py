"""Several processes: the compiled-policy cache is dropped on every replica, expiry happens once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from app.core.bus import Bus
from app.core.clock import utcnow
from app.core.senders import OutgoingClient
from app.core.settings import Settings
from models.events import Event
from models.governance import Action, ActionHistory
from resolvers.context import Services
from resolvers.governance.expiry import expire_due
from tests.conftest import DATABASE_URL, REDIS_URL, Tenant, free_port
from tests.processes import gatehouse_env, running

BODY = {"type": "send_email", "actor": {"kind": "agent"}}


async def _status_soon(c: httpx.AsyncClient, url: str, wanted: str) -> str:
    """Propose until the replica answers `wanted` (the bus message is asynchronous), at most ~2 s."""
    status = ""
    for _ in range(20):
        status = (await c.post(url, json=BODY)).json()["status"]
        if status == wanted:
            break
        await asyncio.sleep(0.1)
    return status


async def test_policy_change_reaches_every_replica(tenant: Tenant) -> None:
    env = gatehouse_env(DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL, GATEHOUSE_INPROCESS_WORKERS="false")
    port = free_port()
    with running("serve", "--port", str(port), env=env, port=port):
        other = f"http://127.0.0.1:{port}/actions"
        async with httpx.AsyncClient(headers=tenant.headers, timeout=10) as c:
            assert (await c.post(other, json=BODY)).json()["status"] == "approved"  # replica caches "no policy"
            created = await c.post(
                f"{tenant.base_url}/policy",
                json={"rules": [{"when": {"actionType": "send_email"}, "require": ["review"]}]},
            )
            assert await _status_soon(c, other, "pending_approval") == "pending_approval"
            await c.delete(f"{tenant.base_url}/policy/{created.json()['id']}")
            assert await _status_soon(c, other, "approved") == "approved"


async def test_concurrent_expiry_workers_expire_each_action_once(tenant: Tenant, settings: Settings) -> None:
    async with tenant.client() as c:
        await c.post("/policy", json={"rules": [{"when": {"actionType": "send_email"}, "require": ["r"]}]})
        ids = [(await c.post("/actions", json=BODY)).json()["actionId"] for _ in range(30)]
    await Action.filter(id__in=ids).update(expires_at=utcnow() - timedelta(seconds=1))
    services = Services(settings=settings, bus=Bus(), http=OutgoingClient(allow_private=False))
    await asyncio.gather(*(expire_due(services) for _ in range(4)))
    for _ in range(30):  # the server's own in-process worker may be claiming some too
        if await Action.filter(id__in=ids, status="expired").count() == 30:
            break
        await asyncio.sleep(0.1)
    assert await Action.filter(id__in=ids, status="expired").count() == 30
    assert await Event.filter(type="action.expired").count() == 30
    assert await ActionHistory.filter(kind="expired").count() == 30
