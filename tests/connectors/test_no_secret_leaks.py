"""Acceptance 2: no API answer, GraphQL answer, event, webhook body, call record, log line or error
message contains credential data. A secret is planted in a credential of every provider, every
credential and connector route is exercised in both doors (successes, provider failures that echo
the secret back, bad input), and everything that came out is searched for the secrets."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from models.connectors import ConnectorCall
from models.events import Event
from models.webhooks import WebhookDelivery
from tests.conftest import PROVIDER_PORTS, SMTP_CERTIFICATE, Tenant
from tests.connectors.fakes import discord as discord_fake
from tests.connectors.fakes import slack as slack_fake
from tests.connectors.fakes import smtp as smtp_fake
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi
from tests.connectors.fakes.discord import DiscordFake
from tests.connectors.fakes.slack import SlackFake
from tests.connectors.fakes.stripe import StripeFake
from tests.webhooks.receiver import eventually, receiving

SECRETS = {
    "slack": "xoxb-PLANTED-slack-7f3a9",
    "stripe": "sk_test_PLANTED_stripe_91c2",
    "discord": "PLANTED.discord.bot-token-4e1",
    "http": "PLANTED-http-bearer-55d0",
    "custom_api": "PLANTED-customer-header-19ab",
    "rotated": "xoxb-PLANTED-rotated-2bb1",
    "refused": "PLANTED-refused-input-8c8c",
    "smtp": smtp_fake.PASSWORD,
    "smtp_wrong": "PLANTED-wrong-smtp-password-3d",  # the relay quotes a refused password back
}
CREDENTIALS = {
    "slack": {"type": "oauth", "data": {"bot_token": SECRETS["slack"]}},
    "stripe": {"type": "api_key", "data": {"secret_key": SECRETS["stripe"]}},
    "discord": {"type": "token", "data": {"bot_token": SECRETS["discord"]}},
    "http": {"type": "custom", "data": {"token": SECRETS["http"]}},
    "custom_api": {"type": "custom", "data": {"headers": {"X-Customer-Key": SECRETS["custom_api"]}}},
}


FAKES_LOGGERS = {"mail.log", "aiohttp.access", "aiohttp.server"}


class Transcript:
    """Everything Gatehouse said to the clients in this test, as text."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, response: httpx.Response) -> httpx.Response:
        self.parts.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    def leaks(self, *extra: str) -> list[str]:
        text = "\n".join([*self.parts, *extra])
        return [name for name, secret in SECRETS.items() if secret in text]


@pytest.fixture
async def fakes() -> AsyncIterator[dict[str, Any]]:
    """The providers, on the ports the test server's settings point at, plus a customer API."""
    made = {"slack": SlackFake(SECRETS["slack"], (slack_fake.CHANNEL,)),
            "stripe": StripeFake(SECRETS["stripe"]),
            "discord": DiscordFake(SECRETS["discord"], (discord_fake.CHANNEL,)),
            "customer": CustomerApi(SECRETS["custom_api"])}
    async with AsyncExitStack() as stack:
        for name, fake in made.items():
            await stack.enter_async_context(serving(fake, PROVIDER_PORTS.get(name, 0)))
        made["smtp"] = await stack.enter_async_context(smtp_fake.serving_smtp(smtp_fake.FakeRelay(), SMTP_CERTIFICATE))
        yield made


async def _smtp_round(c: httpx.AsyncClient, t: Transcript, relay: smtp_fake.FakeRelay) -> None:
    """An email sent over STARTTLS, and a login refused by a relay that quotes the password back."""
    for password, status in ((SECRETS["smtp"], 200), (SECRETS["smtp_wrong"], 502)):
        data = {"host": "localhost", "port": relay.port, "user": smtp_fake.USER, "password": password}
        credential = t.add(await c.post("/api/v1/credentials", json={
            "name": "mail", "type": "custom", "provider": "smtp", "data": data}))
        connector = t.add(await c.post("/api/v1/connectors", json={
            "name": "mail", "type": "smtp", "credentialId": credential.json()["id"]}))
        sent = t.add(await c.post(f"/api/v1/connectors/{connector.json()['id']}/actions/send_email", json={
            "input": {"to": ["ops@example.com"], "subject": "hi", "text": "hello"}}))
        assert sent.status_code == status, sent.text


async def _rest_round(c: httpx.AsyncClient, t: Transcript, fakes: dict[str, Any]) -> dict[str, str]:
    """Create, read, run (success and failure) and update over REST; the connector ids by type."""
    connectors: dict[str, str] = {}
    for provider, credential in CREDENTIALS.items():
        body = {"name": provider, "provider": provider, **credential}
        created = t.add(await c.post("/api/v1/credentials", json=body))
        assert created.status_code == 201, created.text
        t.add(await c.get(f"/api/v1/credentials/{created.json()['id']}"))
        config: dict[str, Any] = {}
        if provider == "custom_api":
            config = {"actions": {"delete": {"url": f"{fakes['customer'].base_url}/actions/delete"},
                                  "echo": {"url": f"{fakes['customer'].base_url}/echo"}}}
        if provider == "http":
            config = {"baseUrl": fakes["customer"].base_url}
        connector = t.add(await c.post("/api/v1/connectors", json={
            "name": provider, "type": provider, "credentialId": created.json()["id"], "config": config}))
        assert connector.status_code == 201, connector.text
        connectors[provider] = connector.json()["id"]
    t.add(await c.get("/api/v1/credentials"))
    t.add(await c.get("/api/v1/connectors"))
    t.add(await c.get("/api/v1/connectors?available=true"))
    runs = [
        ("slack", "send_message", {"channel": slack_fake.CHANNEL, "text": "hi"}, 200),
        ("slack", "send_message", {"channel": "C0NOTTHERE", "text": "hi"}, 502),
        ("stripe", "create_customer", {"email": "a@example.com", "metadata": {"plan": "pro"}}, 200),
        ("stripe", "retrieve_customer", {"id": "cus_missing"}, 502),
        ("discord", "send_message", {"channel_id": discord_fake.CHANNEL, "content": "hi"}, 200),
        ("discord", "send_message", {"channel_id": "1100000000000000999", "content": "hi"}, 502),
        ("http", "request", {"url": "/echo", "method": "POST", "json": {"x": 1}}, 200),
        ("custom_api", "delete", {"content": {"id": "c1", "content_type": "post"}}, 200),
        ("custom_api", "echo", {"content": {"id": "c1", "content_type": "post"}}, 200),
        ("custom_api", "delete", {"content": {"id": 5}}, 400),
    ]
    for provider, action, given, status in runs:
        ran = t.add(await c.post(f"/api/v1/connectors/{connectors[provider]}/actions/{action}", json={"input": given}))
        assert ran.status_code == status, (provider, action, ran.text)
    # a provider whose error quotes the secret back: the message is scrubbed
    fakes["customer"].fail_next(400, {"error": f"key {SECRETS['custom_api']} is not allowed"})
    echoed = t.add(await c.post(f"/api/v1/connectors/{connectors['custom_api']}/actions/delete",
                                json={"input": {"content": {"id": "c2", "content_type": "post"}}}))
    assert echoed.status_code == 502 and "[redacted]" in echoed.text
    for connector in connectors.values():
        t.add(await c.get(f"/api/v1/connectors/{connector}"))
        t.add(await c.get(f"/api/v1/connectors/{connector}/calls"))
    return connectors


async def _rest_changes(c: httpx.AsyncClient, t: Transcript, connectors: dict[str, str]) -> None:
    """Updates, refused updates and deletes, each answer recorded."""
    slack = (await c.get(f"/api/v1/connectors/{connectors['slack']}")).json()["credentialId"]
    t.add(await c.put(f"/api/v1/credentials/{slack}", json={"data": {"bot_token": SECRETS["rotated"]}}))
    refused = t.add(await c.put(f"/api/v1/credentials/{slack}", json={"data": {"app_id": SECRETS["refused"]}}))
    assert refused.status_code == 400
    refused = t.add(await c.post("/api/v1/credentials", json={
        "name": "x", "type": "custom", "provider": "smtp", "data": {"host": "h", "password": SECRETS["refused"]}}))
    assert refused.status_code == 400
    t.add(await c.delete(f"/api/v1/credentials/{slack}"))  # 409: in use
    t.add(await c.put(f"/api/v1/connectors/{connectors['slack']}", json={"config": {"defaultChannel": "#x"}}))
    t.add(await c.delete(f"/api/v1/connectors/{connectors['slack']}"))
    t.add(await c.delete(f"/api/v1/credentials/{slack}"))


GRAPHQL_READS = [
    "{ credentials { edges { node { id name type provider fields fingerprint keyId metadata } } } }",
    "{ connectors { edges { node { id type credentialId config actions { name } } } } }",
    "{ connectorCatalogue { type actions { name inputSchema outputSchema } } }",
]


async def _graphql_round(c: httpx.AsyncClient, t: Transcript, connectors: dict[str, str]) -> None:
    async def gql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = t.add(await c.post("/graphql", json={"query": query, "variables": variables or {}}))
        return dict(response.json())

    for query in GRAPHQL_READS:
        assert "errors" not in await gql(query)
    created = await gql("mutation($i: CreateCredentialInput!) { createCredential(input: $i) { id fields } }",
                        {"i": {"name": "g", "provider": "slack", **CREDENTIALS["slack"]}})
    credential = created["data"]["createCredential"]["id"]
    await gql("query($id: ID!) { credential(id: $id) { id fields fingerprint } }", {"id": credential})
    await gql("mutation($id: ID!, $d: JSON!) { updateCredential(id: $id, input: {data: $d}) { fields } }",
              {"id": credential, "d": {"bot_token": SECRETS["rotated"]}})
    await gql("mutation($id: ID!, $d: JSON!) { updateCredential(id: $id, input: {data: $d}) { fields } }",
              {"id": credential, "d": {"nope": SECRETS["refused"]}})
    run = ("mutation($id: ID!, $a: String!, $i: JSON!) { runConnectorAction(connectorId: $id, action: $a, "
           "input: $i) { output callId } }")
    for connector, action, given in [
        (connectors["custom_api"], "echo", {"content": {"id": "g1", "content_type": "post"}}),
        (connectors["http"], "request", {"url": "/echo"}),
        (connectors["stripe"], "retrieve_customer", {"id": "cus_missing"}),
        (connectors["discord"], "send_message", {"channel_id": "1100000000000000999", "content": "x"}),
    ]:
        await gql(run, {"id": connector, "a": action, "i": given})
        await gql("query($id: ID!) { connector(id: $id) { id config actions { name } } }", {"id": connector})
        await gql("query($id: ID!) { connectorCalls(connectorId: $id) { edges { node { error status } } } }",
                  {"id": connector})
    await gql("mutation($id: ID!) { deleteConnector(id: $id) { id } }", {"id": connectors["http"]})
    await gql("mutation($id: ID!) { deleteCredential(id: $id) { id } }", {"id": credential})


async def test_no_route_in_either_door_leaks_credential_data(
    tenant: Tenant, fakes: dict[str, Any], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    t = Transcript()
    caplog.set_level(logging.DEBUG)
    async with receiving() as receiver, tenant.client() as c:
        hook = await c.post("/api/v1/webhooks", json={"name": "all", "url": receiver.url, "events": ["*"]})
        assert hook.status_code == 201
        connectors = await _rest_round(c, t, fakes)
        await _smtp_round(c, t, fakes["smtp"])
        await _graphql_round(c, t, connectors)
        await _rest_changes(c, t, connectors)
        await eventually(lambda: len(receiver.requests) >= 10)
    # the secrets were really used: the providers received them
    assert fakes["smtp"].messages and (smtp_fake.USER, True) in {(u, ok) for _, u, ok in fakes["smtp"].logins}
    assert (smtp_fake.USER, False) in {(u, ok) for _, u, ok in fakes["smtp"].logins}
    assert any(r.headers.get("X-Customer-Key") == SECRETS["custom_api"] for r in fakes["customer"].requests)
    assert any(r.headers.get("Authorization") == f"Bearer {SECRETS['slack']}" for r in fakes["slack"].requests)
    assert any(r.headers.get("Authorization") == f"Bot {SECRETS['discord']}" for r in fakes["discord"].requests)
    assert any(r.headers.get("Authorization") == f"Bearer {SECRETS['stripe']}" for r in fakes["stripe"].requests)
    assert any(r.headers.get("Authorization") == f"Bearer {SECRETS['http']}" for r in fakes["customer"].requests)
    events = [str(e.data) for e in await Event.all()]
    assert {"credential.created", "connector.call_failed"} <= {e.type for e in await Event.all()}
    deliveries = [d.payload for d in await WebhookDelivery.all()] + [r.body.decode() for r in receiver.requests]
    calls = [f"{call.error}" for call in await ConnectorCall.all()]
    # every log record but the fake providers' own (aiosmtpd's mail.log quotes the refused password)
    logs = [f"{r.name}: {r.getMessage()} {r.__dict__}" for r in caplog.records if r.name not in FAKES_LOGGERS]
    out, err = capfd.readouterr()
    assert t.leaks(*events, *deliveries, *calls, *logs, out, err) == []
