"""A header named in two places, in different cases, goes out once, with the value of the place
that wins (http: config < input < credential; custom_api and http_request steps: the call's
idempotency key < what the credential or step names). The providers merge them as dicts and the
outgoing client (httpx, app/core/http.py) replaces a name in any case: a client that kept both
(aiohttp's multidict does) would send two values for the endpoint to choose between."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.workflows.helpers import create_workflow, execute, settled

TOKEN = "credential-token-0123456789"


async def test_an_http_call_sends_each_header_once_whatever_its_case(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json={
            "name": "web", "type": "custom", "provider": "http", "data": {"token": TOKEN}})).json()
        connector = (await c.post("/api/v1/connectors", json={
            "name": "web", "type": "http", "credentialId": credential["id"],
            "config": {"baseUrl": api.base_url, "headers": {"X-Source": "config", "x-kept": "config"}}})).json()
        ran = await c.post(f"/api/v1/connectors/{connector['id']}/actions/request", json={"input": {
            "url": "/echo", "headers": {"authorization": "Bearer typed", "x-source": "input"}}})
    assert ran.status_code == 200, ran.text
    [seen] = api.requests
    assert seen.values_of("Authorization") == [f"Bearer {TOKEN}"]
    assert seen.values_of("X-Source") == ["input"] and seen.values_of("X-Kept") == ["config"]


async def test_a_custom_api_credential_names_its_own_idempotency_key_once(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json={
            "name": "Customer API", "type": "custom", "provider": "custom_api",
            "data": {"headers": {"X-Customer-Key": api.expected_key, "idempotency-key": "from-credential"}}})).json()
        connector = (await c.post("/api/v1/connectors", json={
            "name": "Moderation API", "type": "custom_api", "credentialId": credential["id"],
            "config": {"actions": {"delete": {"url": f"{api.base_url}/actions/delete"}}}})).json()
        ran = await c.post(f"/api/v1/connectors/{connector['id']}/actions/delete",
                           json={"input": {"content": {"id": "c1", "content_type": "post"}}})
    assert ran.status_code == 200, ran.text
    assert api.requests[0].values_of("Idempotency-Key") == ["from-credential"]


async def test_an_http_request_step_names_its_own_idempotency_key_once(tenant: Tenant) -> None:
    api = CustomerApi()
    async with serving(api), tenant.client() as c:
        workflow = await create_workflow(c, [{"name": "call", "type": "http_request", "config": {
            "method": "POST", "url": f"{api.base_url}/echo", "headers": {"idempotency-key": "{{ input.key }}"}}},
            {"name": "again", "type": "http_request", "config": {"method": "POST", "url": f"{api.base_url}/echo"}}])
        execution = await settled(c, await execute(c, workflow["id"], {"key": "order-17"}))
    assert execution["status"] == "completed", execution
    first, second = api.requests
    assert first.values_of("Idempotency-Key") == ["order-17"]
    assert second.values_of("Idempotency-Key") == [f"{execution['id']}:again"]
