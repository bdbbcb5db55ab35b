"""custom_api (document 000) and http over the API: the exact body and headers sent, the answer
returned without the header values, input checked before sending, the guard, call logs, events,
and the GraphQL door with the same rules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from models.connectors import ConnectorCall
from models.events import Event
from tests.conftest import Tenant
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CUSTOMER_KEY, CustomerApi

CUSTOM_CREDENTIAL = {"name": "Customer API", "type": "custom", "provider": "custom_api",
                     "data": {"headers": {"X-Customer-Key": CUSTOMER_KEY}}}
DOC_INPUT = {"content": {"id": "035e66eaf79", "content_type": "0d45dc11733393648"}}


@pytest.fixture
async def customer() -> AsyncIterator[CustomerApi]:
    api = CustomerApi()
    async with serving(api):
        yield api


async def make_custom_connector(tenant: Tenant, base: str, **custom: object) -> str:
    async with tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json=CUSTOM_CREDENTIAL)).json()
        created = await c.post("/api/v1/connectors", json={
            "name": "Moderation API", "type": "custom_api", "credentialId": credential["id"],
            "config": {"actions": {
                "delete": {"url": f"{base}/actions/delete", "method": "POST", "custom": custom},
                "ban": {"url": f"{base}/actions/ban", "description": "Ban the author"},
            }}})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_delete_posts_exactly_document_000s_body_with_the_headers(tenant: Tenant, customer: CustomerApi) -> None:
    connector = await make_custom_connector(tenant, customer.base_url, reason="spam", severity=3)
    async with tenant.client() as c:
        ran = await c.post(f"/api/v1/connectors/{connector}/actions/delete",
                           json={"input": {**DOC_INPUT, "custom": {"severity": 5}}})
    assert ran.status_code == 200, ran.text
    [seen] = customer.requests
    assert seen.method == "POST" and seen.path == "/actions/delete"
    assert seen.headers["X-Customer-Key"] == CUSTOMER_KEY
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {"content": {"id": "035e66eaf79", "content_type": "0d45dc11733393648"},
                         "custom": {"reason": "spam", "severity": 5}}
    answer = ran.json()
    assert answer["output"]["status"] == 200 and answer["output"]["body"]["done"] == "delete"
    assert answer["output"]["body"]["seenHeaders"]["X-Customer-Key"] == "[redacted]"
    assert CUSTOMER_KEY not in ran.text and isinstance(answer["durationMs"], int)
    assert answer["callId"].startswith("call_")


async def test_custom_is_left_out_when_empty(tenant: Tenant, customer: CustomerApi) -> None:
    connector = await make_custom_connector(tenant, customer.base_url)
    async with tenant.client() as c:
        ran = await c.post(f"/api/v1/connectors/{connector}/actions/ban", json={"input": DOC_INPUT})
    assert ran.status_code == 200
    assert customer.requests[0].json == DOC_INPUT


async def test_an_instance_lists_its_own_actions_with_schemas(tenant: Tenant, customer: CustomerApi) -> None:
    connector = await make_custom_connector(tenant, customer.base_url)
    async with tenant.client() as c:
        detail = (await c.get(f"/api/v1/connectors/{connector}")).json()
        catalogue = (await c.get("/api/v1/connectors", params={"available": "true"})).json()
    actions = {a["name"]: a for a in detail["actions"]}
    assert set(actions) == {"delete", "ban"} and actions["ban"]["description"] == "Ban the author"
    assert actions["delete"]["inputSchema"]["required"] == ["content"]
    assert "custom_api" in {entry["type"] for entry in catalogue}


@pytest.mark.parametrize(("given", "named"), [
    ({"content": {"id": "x"}}, "input.content"),
    ({"content": {"id": "x", "content_type": 7}}, "input.content.content_type"),
    ({}, "input"),
    ({**DOC_INPUT, "custom": "spam"}, "input.custom"),
    ({**DOC_INPUT, "surprise": 1}, "input"),
])
async def test_input_violating_the_schema_is_400_naming_the_field_and_nothing_is_sent(
    tenant: Tenant, customer: CustomerApi, given: dict, named: str
) -> None:
    connector = await make_custom_connector(tenant, customer.base_url)
    async with tenant.client() as c:
        response = await c.post(f"/api/v1/connectors/{connector}/actions/delete", json={"input": given})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "VALIDATION_ERROR" and response.json()["message"].startswith(named)
    assert customer.requests == [] and not await ConnectorCall.exists()


async def test_unknown_action_and_unknown_connector_are_404(tenant: Tenant, customer: CustomerApi) -> None:
    connector = await make_custom_connector(tenant, customer.base_url)
    async with tenant.client() as c:
        unknown = await c.post(f"/api/v1/connectors/{connector}/actions/mute", json={"input": DOC_INPUT})
        absent = await c.post("/api/v1/connectors/conn_nope/actions/delete", json={"input": DOC_INPUT})
    assert unknown.status_code == 404 and "'mute'" in unknown.json()["message"]
    assert "ban" in unknown.json()["message"] and "delete" in unknown.json()["message"]
    assert absent.status_code == 404 and customer.requests == []


async def test_a_provider_failure_is_502_recorded_and_emitted(tenant: Tenant, customer: CustomerApi) -> None:
    connector = await make_custom_connector(tenant, customer.base_url)
    customer.fail_next(503, {"error": "maintenance"}, {"Retry-After": "7"})
    customer.fail_next(422, {"error": "content already deleted"})
    async with tenant.client() as c:
        busy = await c.post(f"/api/v1/connectors/{connector}/actions/delete", json={"input": DOC_INPUT})
        refused = await c.post(f"/api/v1/connectors/{connector}/actions/delete", json={"input": DOC_INPUT})
        fine = await c.post(f"/api/v1/connectors/{connector}/actions/delete", json={"input": DOC_INPUT})
        log = (await c.get(f"/api/v1/connectors/{connector}/calls")).json()
        failed_only = (await c.get(f"/api/v1/connectors/{connector}/calls", params={"status": "failed"})).json()
        unknown = [await c.get(f"/api/v1/connectors/{connector}/calls", params={"status": s}) for s in ("x", "x" * 17)]
    by_graphql = await tenant.graphql('query($id: ID!) { connectorCalls(connectorId: $id, status: "bogus") '
                                      '{ edges { cursor } } }', {"id": connector})
    assert [u.status_code for u in unknown] == [400, 400], [u.text for u in unknown]
    assert by_graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", by_graphql
    assert busy.status_code == 502 and busy.json()["error"] == "CONNECTOR_FAILED"
    assert busy.json()["retryable"] is True and busy.json()["providerStatus"] == 503
    assert busy.headers["Retry-After"] == "7"
    assert refused.status_code == 502 and refused.json()["retryable"] is False
    assert "content already deleted" in refused.json()["message"]
    assert fine.status_code == 200
    assert [(call["status"], call["providerStatus"]) for call in log] == [
        ("succeeded", None), ("failed", 422), ("failed", 503)]
    assert {call["id"] for call in failed_only} == {busy.json()["callId"], refused.json()["callId"]}
    events = await Event.filter(type="connector.call_failed").order_by("seq")
    assert [e.data["callId"] for e in events] == [busy.json()["callId"], refused.json()["callId"]]
    assert events[0].data["retryable"] is True and events[0].data["connectorId"] == connector


async def test_an_unreachable_endpoint_is_a_retryable_failure(tenant: Tenant) -> None:
    connector = await make_custom_connector(tenant, "http://127.0.0.1:9")
    async with tenant.client() as c:
        response = await c.post(f"/api/v1/connectors/{connector}/actions/delete", json={"input": DOC_INPUT})
    assert response.status_code == 502 and response.json()["retryable"] is True


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "ftp://example.com/x",
                                 "http://user:pw@example.com/x"])
async def test_refused_endpoint_urls_are_400_at_creation(tenant: Tenant, url: str) -> None:
    async with tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json=CUSTOM_CREDENTIAL)).json()
        response = await c.post("/api/v1/connectors", json={
            "name": "x", "type": "custom_api", "credentialId": credential["id"],
            "config": {"actions": {"delete": {"url": url}}}})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("config.actions.delete.url")


async def test_http_request_uses_the_credential_and_refuses_metadata_urls(
    tenant: Tenant, customer: CustomerApi
) -> None:
    async with tenant.client() as c:
        credential = (await c.post("/api/v1/credentials", json={
            "name": "api", "type": "api_key", "provider": "http",
            "data": {"apiKey": "http-key-abcdef123456", "header": "X-Api-Key"}})).json()
        connector = (await c.post("/api/v1/connectors", json={
            "name": "Echo", "type": "http", "credentialId": credential["id"],
            "config": {"baseUrl": customer.base_url}})).json()
        ran = await c.post(f"/api/v1/connectors/{connector['id']}/actions/request", json={"input": {
            "method": "PUT", "url": "/echo", "query": {"dry": True, "n": 2}, "json": {"a": 1}}})
        refused = await c.post(f"/api/v1/connectors/{connector['id']}/actions/request", json={"input": {
            "url": "http://169.254.169.254/latest/meta-data/"}})
    assert ran.status_code == 200, ran.text
    [seen] = customer.requests
    assert seen.method == "PUT" and seen.query == {"dry": "true", "n": "2"} and seen.json == {"a": 1}
    assert seen.headers["X-Api-Key"] == "http-key-abcdef123456"
    # the key is scrubbed from outputs; the header's name, which only says where it goes, is not
    assert ran.json()["output"]["body"]["headers"]["X-Api-Key"] == "[redacted]"
    assert "http-key-abcdef123456" not in ran.text
    assert refused.status_code == 400 and "169.254.169.254" in refused.json()["message"]
    assert len(customer.requests) == 1


async def test_a_provider_answer_that_cannot_be_stored_as_it_came_is_a_clean_502(
    tenant: Tenant, customer: CustomerApi
) -> None:
    """A 500 whose body holds NUL, and a 429 whose Retry-After is in digits that are not ASCII, were
    500 INTERNAL (the call's record refused the text; float() refused "²"), and went unrecorded."""
    async with tenant.client() as c:
        connector = (await c.post("/api/v1/connectors", json={
            "name": "Echo", "type": "http", "config": {"baseUrl": customer.base_url}})).json()
        customer.fail_next(500, "bad\x00thing", {"Content-Type": "text/plain"})
        customer.fail_next(429, {"error": "slow down"}, {"Retry-After": "\u00b2"})
        customer.fail_next(200, {"a": "x\u0000y"})
        answers = [await c.post(f"/api/v1/connectors/{connector['id']}/actions/request",
                                json={"input": {"url": "/echo"}}) for _ in range(3)]
        calls = (await c.get(f"/api/v1/connectors/{connector['id']}/calls")).json()
    failed, throttled, ok = answers
    assert failed.status_code == 502 and failed.json()["error"] == "CONNECTOR_FAILED", failed.text
    assert "bad\ufffdthing" in failed.json()["message"]
    assert throttled.status_code == 502 and throttled.json()["error"] == "CONNECTOR_FAILED", throttled.text
    assert ok.status_code == 200 and ok.json()["output"]["body"] == {"a": "x\ufffdy"}, ok.text
    assert len(calls) == 3


async def test_graphql_runs_the_same_action_with_the_same_rules(tenant: Tenant, customer: CustomerApi) -> None:
    connector = await make_custom_connector(tenant, customer.base_url)
    run = ("mutation($id: ID!, $input: JSON!) { runConnectorAction(connectorId: $id, action: \"delete\", "
           "input: $input) { output durationMs callId } }")
    ran = await tenant.graphql(run, {"id": connector, "input": DOC_INPUT})
    assert ran["data"]["runConnectorAction"]["output"]["body"]["contentId"] == "035e66eaf79"
    bad = await tenant.graphql(run, {"id": connector, "input": {"content": {}}})
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    customer.fail_next(500, {"error": "boom"})
    failed = await tenant.graphql(run, {"id": connector, "input": DOC_INPUT})
    assert failed["errors"][0]["extensions"]["code"] == "CONNECTOR_FAILED"
    assert failed["errors"][0]["extensions"]["retryable"] is True
    calls = await tenant.graphql("query($id: ID!) { connectorCalls(connectorId: $id) { edges { node { status } } } }",
                                 {"id": connector})
    assert [e["node"]["status"] for e in calls["data"]["connectorCalls"]["edges"]] == ["failed", "succeeded"]
    detail = await tenant.graphql("query($id: ID!) { connector(id: $id) { type actions { name inputSchema } } }",
                                  {"id": connector})
    assert {a["name"] for a in detail["data"]["connector"]["actions"]} == {"delete", "ban"}
