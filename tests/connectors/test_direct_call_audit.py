"""A connector action run directly (REST `POST /connectors/{id}/actions/{action}`, GraphQL
`runConnectorAction`) acts with the organization's credentials, so each call that reaches the
provider, succeeded or failed, appends one `connector.action_run` audit entry naming the key, the
connector, the action, the call and its outcome, never the input (as the call log);
the entry outlives the connector (and its call log) and verifies in the chain. The call log names
the key too. (Before: no entry at all, and a call log row with no key, deleted with its connector.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.audit.helpers import entries, verified
from tests.conftest import PROVIDER_PORTS, Tenant
from tests.connectors.fakes import slack as slack_fake
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.slack import SlackFake

SECRET = "xoxb-PLANTED-direct-call-audit-6d2f"
KIND = "connector.action_run"
RUN = ("mutation($id: ID!, $a: String!, $i: JSON!, $k: String) { runConnectorAction(connectorId: $id, action: $a, "
       "input: $i, idempotencyKey: $k) { callId } }")
CALLS = "query($id: ID!) { connectorCalls(connectorId: $id) { edges { node { id status keyId } } } }"
AUDIT_LOG = ("{ auditLog(type: \"connector.action_run\") { edges { node { type resourceId actor keyId changes "
             "requestId } } } }")


@pytest.fixture
async def slack() -> AsyncIterator[SlackFake]:
    """Slack on the port the test server's settings point at, taking only SECRET as its token."""
    fake = SlackFake(SECRET, (slack_fake.CHANNEL,))
    async with serving(fake, PROVIDER_PORTS["slack"]):
        yield fake


async def _connector(tenant: Tenant) -> str:
    async with tenant.client() as c:
        credential = await c.post("/api/v1/credentials", json={
            "name": "slack", "type": "oauth", "provider": "slack", "data": {"bot_token": SECRET}})
        assert credential.status_code == 201, credential.text
        made = await c.post("/api/v1/connectors", json={"name": "ops", "type": "slack",
                                                         "credentialId": credential.json()["id"]})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


async def _run(tenant: Tenant, kind: str, connector: str, given: dict[str, Any],
               key: str | None = None) -> tuple[int, dict[str, Any]]:
    """One direct call through `kind`'s door: (HTTP-like status, its answer or its error body)."""
    if kind == "rest":
        body: dict[str, Any] = {"input": given} | ({"idempotencyKey": key} if key else {})
        async with tenant.client() as c:
            ran = await c.post(f"/api/v1/connectors/{connector}/actions/send_message", json=body)
        return ran.status_code, ran.json()
    out = await tenant.graphql(RUN, {"id": connector, "a": "send_message", "i": given, "k": key})
    if out.get("errors"):
        extensions = out["errors"][0]["extensions"]
        return {"CONNECTOR_FAILED": 502, "VALIDATION_ERROR": 400}[extensions["code"]], extensions
    return 200, out["data"]["runConnectorAction"]


async def _key_id(tenant: Tenant) -> str:
    """The tenant's admin key id, as the trail names it (it created the connector)."""
    created = await entries(tenant, type="connector.created")
    key_id = created[0]["keyId"]
    assert key_id and key_id.startswith("key_")
    return str(key_id)


async def _runs(tenant: Tenant, connector: str) -> list[dict[str, Any]]:
    """The connector's `connector.action_run` entries (read by resource: any other type is left out)."""
    return [e for e in await entries(tenant, resource=connector) if e["type"] == KIND]


async def _everything_read_back(tenant: Tenant) -> str:
    """The audit list, the NDJSON export and GraphQL's auditLog, as one text."""
    async with tenant.client() as c:
        listed = await c.get("/api/v1/audit", params={"limit": 200})
        exported = await c.get("/api/v1/audit/export")
    assert listed.status_code == exported.status_code == 200, (listed.text, exported.text)
    logged = await tenant.graphql(AUDIT_LOG)
    assert "errors" not in logged, logged
    return "\n".join([listed.text, exported.text, str(logged)])


@pytest.mark.parametrize("kind", ["rest", "graphql"])
async def test_a_direct_call_leaves_one_entry_per_call_succeeded_or_failed(
    tenant: Tenant, slack: SlackFake, kind: str
) -> None:
    connector = await _connector(tenant)
    key_id = await _key_id(tenant)
    sent, ok = await _run(tenant, kind, connector, {"channel": slack_fake.CHANNEL, "text": f"token {SECRET} hi"})
    assert sent == 200, ok
    refused, permanent = await _run(tenant, kind, connector, {"channel": "C0NOTTHERE", "text": "hi"})
    slack.fail_next(503, {"ok": False, "error": "service_unavailable"})
    down, retryable = await _run(tenant, kind, connector, {"channel": slack_fake.CHANNEL, "text": "hi"})
    assert (refused, down) == (502, 502), (permanent, retryable)
    assert (permanent["retryable"], retryable["retryable"]) == (False, True)
    bad, _ = await _run(tenant, kind, connector, {"channel": slack_fake.CHANNEL})  # no text: nothing is sent
    assert bad == 400
    assert len(slack.requests) == 3

    report = await verified(tenant)
    assert report["ok"] is True, report
    found = {e["changes"]["after"]["callId"]: e for e in await _runs(tenant, connector)}
    assert set(found) == {ok["callId"], permanent["callId"], retryable["callId"]}, found
    for entry in found.values():
        assert (entry["resourceId"], entry["actor"], entry["keyId"]) == (connector, key_id, key_id), entry
        assert entry["changes"]["after"]["action"] == "send_message" and entry["requestId"], entry
        assert entry["hash"] and entry["position"], entry
    success = found[ok["callId"]]["changes"]["after"]
    assert success["status"] == "succeeded"
    assert "input" not in success, success  # the call log keeps no input either
    failures = [found[permanent["callId"]]["changes"]["after"], found[retryable["callId"]]["changes"]["after"]]
    assert [(f["status"], f["errorCode"], f["retryable"]) for f in failures] == [
        ("failed", "CONNECTOR_FAILED", False), ("failed", "CONNECTOR_FAILED", True)], failures
    assert "channel_not_found" in failures[0]["error"]
    assert SECRET not in await _everything_read_back(tenant)


@pytest.mark.parametrize("kind", ["rest", "graphql"])
async def test_the_entries_outlive_the_connector_and_the_call_log_names_the_key(
    tenant: Tenant, slack: SlackFake, kind: str
) -> None:
    connector = await _connector(tenant)
    key_id = await _key_id(tenant)
    answers = [await _run(tenant, kind, connector, {"channel": slack_fake.CHANNEL, "text": "again"}, key="retry-1")
               for _ in range(2)]
    assert [status for status, _ in answers] == [200, 200], answers
    if kind == "rest":
        async with tenant.client() as c:
            calls = (await c.get(f"/api/v1/connectors/{connector}/calls")).json()
    else:
        edges = (await tenant.graphql(CALLS, {"id": connector}))["data"]["connectorCalls"]["edges"]
        calls = [edge["node"] for edge in edges]
    assert sorted((call["id"], call["keyId"]) for call in calls) == sorted(
        (answer["callId"], key_id) for _, answer in answers)
    async with tenant.client() as c:
        assert (await c.delete(f"/api/v1/connectors/{connector}")).status_code == 200

    report = await verified(tenant)
    assert report["ok"] is True, report
    kept = await _runs(tenant, connector)
    # each request sent again is an entry of its own, the key given showing they are one call's repeats
    assert sorted(e["changes"]["after"]["callId"] for e in kept) == sorted(a["callId"] for _, a in answers)
    assert {e["changes"]["after"]["idempotencyKey"] for e in kept} == {"retry-1"}
    assert all(e["keyId"] == key_id for e in kept)
    assert SECRET not in await _everything_read_back(tenant)
