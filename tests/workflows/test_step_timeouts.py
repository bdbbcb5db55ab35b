"""A step's `timeoutMs` bounds its call, whatever the step type: a connector step waits as long as
its timeout says, past the connector's default (GATEHOUSE_CONNECTOR_TIMEOUT_SECONDS), as an
http_request step does, and a shorter one cuts the call."""

from __future__ import annotations

import asyncio

from aiohttp import web

from app.core.settings import Settings
from tests.conftest import Tenant
from tests.connectors.fakes.base import FakeProvider, json_response, serving
from tests.workflows.helpers import create_workflow, execute, settled


class SlowApi(FakeProvider):
    """Answers `/slow?s=<seconds>` after that many seconds."""

    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_route("*", "/slow", self.slow)

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query["s"]))
        return json_response({"waited": request.query["s"]})


async def test_a_connector_steps_timeout_is_its_calls_timeout(tenant: Tenant, settings: Settings) -> None:
    slower = settings.connector_timeout_seconds + 1.5  # past the connector's default, within the step's
    api = SlowApi()
    async with serving(api), tenant.client() as c:
        created = await c.post("/api/v1/connectors", json={"name": "slow", "type": "http", "config": {}})
        assert created.status_code == 201, created.text
        connector = created.json()["id"]

        def step(name: str, seconds: float, timeout_ms: int) -> dict[str, object]:
            return {"name": name, "type": "connector", "timeoutMs": timeout_ms, "retry": {"maxAttempts": 1},
                    "config": {"connectorId": connector, "action": "request",
                               "input": {"url": f"{api.base_url}/slow", "query": {"s": str(seconds)}}}}

        patient = await create_workflow(c, [step("patient", slower, int((slower + 10) * 1000))])
        hasty = await create_workflow(c, [step("hasty", 2, 300)])
        waited, cut = await asyncio.gather(settled(c, await execute(c, patient["id"]), within=slower + 15),
                                           settled(c, await execute(c, hasty["id"])))
    assert waited["status"] == "completed", waited["error"]
    assert waited["output"]["body"] == {"waited": str(slower)}
    assert cut["status"] == "failed" and "timed out after 0.3 s" in cut["error"], cut["error"]
