"""Values nested past what JSON writes keep, and NUL text, on the connector paths: refused as input at
both doors (they were 500s, or reached the provider over GraphQL), and cut with a marker when a
provider's answer holds them (a 500 after the provider had acted; a workflow step called it again at
every lease, without end)."""

from __future__ import annotations

import orjson
from aiohttp import web

from models.connectors import ConnectorCall
from tests.conftest import Tenant
from tests.connectors.fakes.base import FakeProvider, serving
from tests.workflows.helpers import create_workflow, execute, settled

LEVELS = 300  # past orjson's 255, within the 1,024 levels a JSON body may have
DEEP_TEXT = "[" * LEVELS + "]" * LEVELS
RUN = ("mutation($id: ID!, $input: JSON!) { runConnectorAction(connectorId: $id, action: \"request\", "
       "input: $input) { output callId } }")


class Deep(FakeProvider):
    """Answers `{"ok": true, "x": [[[...]]]}`, nested LEVELS deep."""

    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_route("*", "/deep", self.deep)

    async def deep(self, request: web.Request) -> web.Response:
        return web.Response(text='{"ok": true, "x": ' + DEEP_TEXT + "}", content_type="application/json")


async def _http_connector(tenant: Tenant, base_url: str) -> str:
    async with tenant.client() as c:
        made = await c.post("/api/v1/connectors", json={"name": "h", "type": "http", "config": {"baseUrl": base_url}})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_a_deep_provider_answer_is_cut_with_a_marker_at_both_doors(tenant: Tenant) -> None:
    fake = Deep()
    async with serving(fake) as base_url:
        connector = await _http_connector(tenant, base_url)
        async with tenant.client() as c:
            rest = await c.post(f"/api/v1/connectors/{connector}/actions/request", json={"input": {"url": "/deep"}})
        graphql = await tenant.graphql(RUN, {"id": connector, "input": {"url": "/deep"}})
    assert rest.status_code == 200, rest.text
    marker = {"truncated": True, "marker": "[cut: JSON must not be nested this deeply]"}
    assert rest.json()["output"] == marker
    assert graphql["data"]["runConnectorAction"]["output"] == marker, graphql
    assert len(fake.requests) == 2
    statuses = await ConnectorCall.filter(organization_id=tenant.organization_id).values_list("status", flat=True)
    assert list(statuses) == ["succeeded", "succeeded"]


async def test_a_workflow_step_whose_answer_is_too_deep_completes_once(tenant: Tenant) -> None:
    fake = Deep()
    async with serving(fake) as base_url, tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "fetch", "type": "http_request",
                                              "config": {"method": "GET", "url": f"{base_url}/deep"}}])
        execution = await settled(c, await execute(c, workflow["id"]))
    assert execution["status"] == "completed", execution
    step = execution["steps"][0]
    assert step["attempts"] == 1 and step["output"]["marker"] == "[cut: JSON must not be nested this deeply]"
    assert len(fake.requests) == 1


async def test_deep_or_nul_input_is_refused_before_anything_is_sent(tenant: Tenant) -> None:
    fake = Deep()
    async with serving(fake) as base_url:
        connector = await _http_connector(tenant, base_url)
        async with tenant.client() as c:
            deep_run = await c.post(f"/api/v1/connectors/{connector}/actions/request",
                                    content=orjson.dumps({"input": {"url": "/deep", "json": "PLACEHOLDER"}})
                                    .replace(b'"PLACEHOLDER"', DEEP_TEXT.encode()),
                                    headers={"content-type": "application/json"})
            credential = await c.post("/api/v1/credentials", content=orjson.dumps(
                {"name": "h", "type": "custom", "provider": "http", "data": {"token": "t0ken"},
                 "metadata": {"m": "PLACEHOLDER"}}).replace(b'"PLACEHOLDER"', DEEP_TEXT.encode()),
                headers={"content-type": "application/json"})
        nul = await tenant.graphql(RUN, {"id": connector, "input": {"url": "/deep", "text": "x\u0000y"}})
        literal = await tenant.graphql(
            f'mutation {{ runConnectorAction(connectorId: "{connector}", action: "request", '
            'input: {url: "/deep", text: "x\\u0000y"}) { callId } }')
    for refused in (deep_run, credential):
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "VALIDATION_ERROR" and "nested" in refused.json()["message"]
    for answer in (nul, literal):
        assert answer["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", answer
    assert fake.requests == []
