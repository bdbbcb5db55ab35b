"""A connector deleted while one of its actions runs: the provider has acted (or refused), and the
caller is told what it answered; the call log went with its connector, as DELETE documents. (The
run answered 500 INTERNAL on the call log's foreign key: a client retrying acted twice.)"""

from __future__ import annotations

import asyncio

from aiohttp import web

from models.events import Event
from tests.conftest import Tenant
from tests.connectors.fakes.base import FakeProvider, json_response, serving


class Slow(FakeProvider):
    """Answers after `delay` seconds: `/ok` a 200, `/fail` a 500."""

    def __init__(self, delay: float = 0.8) -> None:
        super().__init__()
        self.delay = delay
        self.app.router.add_route("*", "/ok", self.ok)
        self.app.router.add_route("*", "/fail", self.fail)

    async def ok(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        return json_response({"sent": True})

    async def fail(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        return json_response({"error": "down"}, status=500)


async def _run_while_deleted(tenant: Tenant, base_url: str, path: str) -> tuple[int, dict, int]:
    async with tenant.client() as c:
        made = await c.post("/api/v1/connectors", json={"name": "h", "type": "http", "config": {"baseUrl": base_url}})
        connector = made.json()["id"]
        running = asyncio.ensure_future(c.post(f"/api/v1/connectors/{connector}/actions/request",
                                               json={"input": {"url": path}}))
        await asyncio.sleep(0.3)
        deleted = await c.delete(f"/api/v1/connectors/{connector}")
        ran = await running
    return ran.status_code, ran.json(), deleted.status_code


async def test_a_call_that_succeeded_is_answered_as_it_went(tenant: Tenant) -> None:
    async with serving(Slow()) as base_url:
        status, answer, deleted = await _run_while_deleted(tenant, base_url, "/ok")
    assert deleted == 200, deleted
    assert status == 200, answer
    assert answer["output"]["body"] == {"sent": True} and answer["callId"].startswith("call_")


async def test_a_call_that_failed_is_a_502_with_its_event(tenant: Tenant) -> None:
    async with serving(Slow()) as base_url:
        status, answer, _ = await _run_while_deleted(tenant, base_url, "/fail")
    assert status == 502 and answer["error"] == "CONNECTOR_FAILED" and answer["retryable"] is True, answer
    event = await Event.get(organization_id=tenant.organization_id, type="connector.call_failed")
    assert event.data["callId"] == answer["callId"] and event.data["providerStatus"] == 500
