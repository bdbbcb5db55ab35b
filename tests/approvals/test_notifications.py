"""Notifications: a policy's notify connectors (a Slack-speaking fake, a real aiosmtpd relay) hear
of pending and decided actions with the approvalUrl; a channel that is down neither delays the
decision nor loses the notice, and its failures are in the connector's call log."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx

from models.connectors import ConnectorCall
from models.governance import Policy
from models.notifications import Notification
from tests.approvals.helpers import approve, make_policy, propose
from tests.conftest import PROVIDER_PORTS, SMTP_CERTIFICATE, Tenant, free_port
from tests.connectors.fakes import smtp as smtp_fake
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.slack import CHANNEL, TOKEN, SlackFake
from tests.webhooks.receiver import eventually

SMTP_PORT = free_port()


@asynccontextmanager
async def channels(slack: SlackFake, relay: smtp_fake.FakeRelay) -> AsyncIterator[None]:
    """The Slack fake on the port the server calls, the SMTP relay on SMTP_PORT."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(serving(slack, PROVIDER_PORTS["slack"]))
        await stack.enter_async_context(smtp_fake.serving_smtp(relay, SMTP_CERTIFICATE, port=SMTP_PORT))
        yield


async def connectors(c: httpx.AsyncClient) -> tuple[str, str]:
    """A Slack connector with a default channel and an SMTP connector on the local relay."""
    slack_cred = await c.post("/api/v1/credentials", json={"name": "slack", "type": "oauth", "provider": "slack",
                                                            "data": {"bot_token": TOKEN}})
    slack = await c.post("/api/v1/connectors", json={"name": "slack", "type": "slack", "config": {
        "defaultChannel": CHANNEL}, "credentialId": slack_cred.json()["id"]})
    data = {"host": "localhost", "port": SMTP_PORT, "user": smtp_fake.USER, "password": smtp_fake.PASSWORD}
    mail_cred = await c.post("/api/v1/credentials", json={"name": "mail", "type": "custom", "provider": "smtp",
                                                           "data": data})
    mail = await c.post("/api/v1/connectors", json={"name": "mail", "type": "smtp", "config": {
        "defaultFrom": "gatehouse@acme.test"}, "credentialId": mail_cred.json()["id"]})
    assert slack.status_code == mail.status_code == 201, (slack.text, mail.text)
    return slack.json()["id"], mail.json()["id"]


def notify(slack_id: str, mail_id: str) -> list[Any]:
    return [slack_id, {"connector": mail_id, "input": {"to": ["ops@acme.test"]}}]


def slack_texts(slack: SlackFake) -> list[str]:
    return [str(m["text"]) for m in slack.messages.values()]


def mail_texts(relay: smtp_fake.FakeRelay) -> list[str]:
    return [str(m.message.get_body(("plain",)).get_content()) for m in relay.messages]  # type: ignore[union-attr]


def url_of(action_id: str) -> str:
    return f"https://gatehouse.test/console/approve/{action_id}"


async def test_pending_and_decided_notices_reach_slack_and_email(tenant: Tenant) -> None:
    slack, relay = SlackFake(), smtp_fake.FakeRelay()
    async with channels(slack, relay), tenant.client() as c:
        slack_id, mail_id = await connectors(c)
        policy = await make_policy(c, notify=notify(slack_id, mail_id))
        assert policy["notify"] == [{"connector": slack_id, "action": "send_message", "input": {}},
                                    {"connector": mail_id, "action": "send_email", "input": {"to": ["ops@acme.test"]}}]
        action = await propose(c)
        url = url_of(action["actionId"])
        await eventually(lambda: any(url in t and "waits for approval" in t for t in slack_texts(slack)))
        await eventually(lambda: any(url in t and "amount=40" in t for t in mail_texts(relay)))
        assert relay.messages[0].rcpt_tos == ["ops@acme.test"]
        await approve(c, action["actionId"])
        await eventually(lambda: any("was approved" in t for t in slack_texts(slack)))
        await eventually(lambda: len(relay.messages) == 2)
        listed = (await c.get(f"/api/v1/actions/{action['actionId']}/notifications")).json()
    assert sorted((n["event"], n["status"]) for n in listed) == [
        ("action.approved", "sent"), ("action.approved", "sent"),
        ("action.pending_approval", "sent"), ("action.pending_approval", "sent")]
    graphql = await tenant.graphql("query($id: ID!) { action(id: $id) { notifications { event status connectorId "
                                   "lastCallId } } }", {"id": action["actionId"]})
    assert {n["connectorId"] for n in graphql["data"]["action"]["notifications"]} == {slack_id, mail_id}
    assert all(n["lastCallId"] for n in graphql["data"]["action"]["notifications"])
    node = await tenant.graphql("query($id: ID!) { node(id: $id) { ... on Notification { status event } } }",
                                {"id": listed[0]["id"]})
    assert node["data"]["node"]["status"] == "sent"


async def test_channels_down_do_not_delay_the_decision_and_deliver_once_back(tenant: Tenant) -> None:
    async with tenant.client() as c:
        slack_id, mail_id = await connectors(c)
        await make_policy(c, notify=notify(slack_id, mail_id))
        started = time.monotonic()
        action = await propose(c)
        await approve(c, action["actionId"])
        assert time.monotonic() - started < 1.0  # both channels are down meanwhile
        assert (await c.get(f"/actions/{action['actionId']}")).json()["status"] == "approved"

        async def both_failed_in_call_log() -> bool:
            failed = await ConnectorCall.filter(status="failed").values_list("connector_id", flat=True)
            return {slack_id, mail_id} <= set(failed)

        await eventually(both_failed_in_call_log, within=20)
        slack, relay = SlackFake(), smtp_fake.FakeRelay()
        async with channels(slack, relay):
            url = url_of(action["actionId"])
            await eventually(lambda: any(url in t and "waits for approval" in t for t in slack_texts(slack)), 30)
            await eventually(lambda: any(url in t and "waits for approval" in t for t in mail_texts(relay)), 30)
            await eventually(lambda: any("was approved" in t for t in slack_texts(slack)), 30)

            async def both_recorded_sent() -> bool:  # a notice is recorded after its channel took it
                rows = await Notification.filter(action_id=action["actionId"], event_type="action.pending_approval")
                return {r.connector_id for r in rows if r.status == "sent"} == {slack_id, mail_id}

            await eventually(both_recorded_sent, within=10)
        rows = await Notification.filter(action_id=action["actionId"], event_type="action.pending_approval")
        assert {r.connector_id for r in rows} == {slack_id, mail_id}
        assert all(r.status == "sent" and r.attempts >= 2 for r in rows)
        calls = (await c.get(f"/api/v1/connectors/{slack_id}/calls")).json()
        assert {call["status"] for call in calls} >= {"failed", "succeeded"}


async def test_notify_is_validated_and_bad_input_changes_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    async with other_tenant.client() as c:
        theirs, _ = await connectors(c)
    async with tenant.client() as c:
        slack_id, mail_id = await connectors(c)
        stripe_cred = await c.post("/api/v1/credentials", json={"name": "s", "type": "api_key", "provider": "stripe",
                                                                 "data": {"secret_key": "sk_test_x"}})
        stripe = await c.post("/api/v1/connectors", json={"name": "s", "type": "stripe",
                                                          "credentialId": stripe_cred.json()["id"]})
        cases: list[tuple[Any, str]] = [
            (["conn_missing"], "notify[0].connector"),
            ([slack_id, theirs], "notify[1].connector"),
            ([stripe.json()["id"]], "notify[0].connector"),
            ([mail_id], "notify[0].input"),  # an email needs recipients
            ([{"connector": slack_id, "action": "nope"}], "notify[0].action"),
            ([{"connector": slack_id, "input": "x"}], "notify[0].input"),
            ([{"connector": slack_id, "extra": 1}], "notify[0]"),
            ("conn_x", "notify"),
        ]
        for bad, path in cases:
            answer = await c.post("/api/v1/policy", json={"rules": [], "notify": bad})
            body = answer.json()
            assert answer.status_code == 400 and body["error"] == "VALIDATION_ERROR", answer.text
            assert body["message"].startswith(path), answer.text
        assert await Policy.filter(organization_id=tenant.organization_id).count() == 0
        policy = await make_policy(c)
        refused = await c.put(f"/api/v1/policy/{policy['id']}", json={"notify": ["conn_missing"]})
        assert refused.status_code == 400
        assert (await c.get(f"/api/v1/policy/{policy['id']}")).json()["version"] == 1
        updated = await c.put(f"/api/v1/policy/{policy['id']}", json={"notify": [slack_id]})
        assert updated.json()["notify"][0]["connector"] == slack_id
    create = "mutation($n: JSON) { createPolicy(input: {rules: [], notify: $n}) { id notify } }"
    bad = await tenant.graphql(create, {"n": ["conn_missing"]})
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "notify[0].connector" in bad["errors"][0]["message"]
    good = await tenant.graphql(create, {"n": [slack_id]})
    assert good["data"]["createPolicy"]["notify"][0]["action"] == "send_message"


async def test_notices_of_another_tenant_are_not_found(tenant: Tenant, other_tenant: Tenant) -> None:
    async with tenant.client() as c:
        action = await propose(c)
        assert (await c.get(f"/api/v1/actions/{action['actionId']}/notifications")).json() == []
    async with other_tenant.client() as c:
        assert (await c.get(f"/api/v1/actions/{action['actionId']}/notifications")).status_code == 404
