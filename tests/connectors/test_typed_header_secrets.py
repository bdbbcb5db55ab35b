"""A credential typed as a header (an http call's input, its connector's config, an http_request
step's config) is scrubbed like a credential's data from what the call answers, records and emits:
an endpoint that echoes its headers, or quotes the token in an error, gives back `[redacted]`.
Before, only the credential's own data was scrubbed."""

from __future__ import annotations

import orjson

from models.connectors import ConnectorCall
from models.events import Event
from models.workflows import ExecutionStep
from tests.conftest import Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.workflows.helpers import create_workflow, execute, settled

TYPED = "PLANTED-typed-bearer-7a1c"
CONFIGURED = "PLANTED-config-key-93f0"


async def test_typed_and_configured_credential_headers_are_scrubbed(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        connector = (await c.post("/api/v1/connectors", json={
            "name": "web", "type": "http", "config": {"baseUrl": api.base_url, "headers": {"X-Api-Key": CONFIGURED}}
        })).json()
        run = f"/api/v1/connectors/{connector['id']}/actions/request"
        headers = {"Authorization": f"Bearer {TYPED}", "X-Trace": "trace-1234"}
        echoed = await c.post(run, json={"input": {"url": "/echo", "headers": headers}})
        api.fail_next(401, {"error": f"token {TYPED} expired; key {CONFIGURED} unknown"})
        failed = await c.post(run, json={"input": {"url": "/echo", "headers": headers}})
    assert echoed.status_code == 200, echoed.text
    seen = echoed.json()["output"]["body"]["headers"]
    assert seen["Authorization"] == "[redacted]" and seen["X-Api-Key"] == "[redacted]"
    assert seen["X-Trace"] == "trace-1234"  # a header that names no credential is left as it is
    assert api.requests[0].headers["Authorization"] == f"Bearer {TYPED}"  # sent as typed
    assert failed.status_code == 502 and "[redacted]" in failed.json()["message"], failed.text
    errors = [str(call.error) for call in await ConnectorCall.filter(connector_id=connector["id"])]
    events = [orjson.dumps(e.data).decode() for e in await Event.filter(organization_id=tenant.organization_id)]
    for text in (echoed.text, failed.text, *errors, *events):
        assert TYPED not in text and CONFIGURED not in text, text


async def test_an_http_request_steps_typed_token_is_scrubbed(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "call", "type": "http_request", "config": {
            "url": f"{api.base_url}/echo", "headers": {"Authorization": "Bearer {{ input.token }}"}}}])
        echoed = await settled(c, await execute(c, workflow["id"], {"token": TYPED}))
        api.fail_next(400, {"error": f"bad token {TYPED}"})
        failed = await settled(c, await execute(c, workflow["id"], {"token": TYPED}))
    assert api.requests[0].headers["Authorization"] == f"Bearer {TYPED}"
    assert echoed["status"] == "completed", echoed
    [step] = await ExecutionStep.filter(execution_id=echoed["id"])
    assert step.output["body"]["headers"]["Authorization"] == "[redacted]", step.output
    assert failed["status"] == "failed" and "bad token [redacted]" in str(failed["error"]), failed
    [step] = await ExecutionStep.filter(execution_id=failed["id"])
    assert TYPED not in str(step.error) and TYPED not in str(failed["error"])


async def test_a_typed_token_across_the_excerpts_cut_is_scrubbed_whole(tenant: Tenant) -> None:
    """The error excerpt is cut at 500 characters after the typed token is scrubbed, not before: cut
    first, the token's first part (here 10 characters of it) was kept."""
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        connector = (await c.post("/api/v1/connectors", json={"name": "web", "type": "http"})).json()
        api.fail_next(400, "x" * 490 + TYPED, {"Content-Type": "text/plain"})
        failed = await c.post(f"/api/v1/connectors/{connector['id']}/actions/request", json={"input": {
            "url": f"{api.base_url}/echo", "headers": {"Authorization": f"Bearer {TYPED}"}}})
    assert failed.status_code == 502, failed.text
    assert "x" * 400 in failed.json()["message"] and TYPED[:6] not in failed.text, failed.text
