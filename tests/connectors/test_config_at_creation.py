"""Values that could never be sent were accepted when written (201) and every later call failed:
an smtp connector's config.defaultFrom / replyTo with a line break, an http connector's
config.headers with a line break, non-ASCII text or a bad name (failing with a 400 that blamed the
URL), and a Slack or Discord bot_token with a line break or non-ASCII text. Each is now a 400
naming the field, in both doors, on create and update, and nothing is stored or changed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models.connectors import Connector, ConnectorCall, Credential
from resolvers.connectors.providers.discord import send_message as discord_send
from resolvers.connectors.providers.slack import send_message as slack_send
from resolvers.connectors.providers.stripe import create_customer as stripe_customer
from resolvers.errors import Invalid
from tests.conftest import Tenant
from tests.connectors.calls import action_call
from tests.connectors.fakes.base import serving
from tests.connectors.fakes.customer import CustomerApi

SMTP_DATA = {"host": "smtp.example.com", "port": 587, "user": "u@acme.test", "password": "p"}
CREATE_CONNECTOR = "mutation($i: CreateConnectorInput!) { createConnector(input: $i) { id } }"
UPDATE_CONNECTOR = "mutation($id: ID!, $c: JSON) { updateConnector(id: $id, input: {config: $c}) { id } }"
CREATE_CREDENTIAL = "mutation($i: CreateCredentialInput!) { createCredential(input: $i) { id } }"
BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u0085"]


def assert_400(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["error"] == "VALIDATION_ERROR" and field in body["message"], body


def assert_graphql_400(result: dict[str, Any], field: str) -> None:
    [error] = result["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and field in error["message"], result


async def smtp_credential(c: httpx.AsyncClient) -> str:
    created = await c.post("/api/v1/credentials", json={"name": "m", "type": "custom", "provider": "smtp",
                                                         "data": SMTP_DATA})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def refused_at_create_and_update(
    tenant: Tenant, body: dict[str, Any], bad: dict[str, Any], good: dict[str, Any], field: str
) -> None:
    """Config `bad` is a 400 naming `field` at both doors, when a connector is created with it and when
    one made with `good` is updated to it; nothing is stored."""
    async with tenant.client() as c:
        assert_400(await c.post("/api/v1/connectors", json={**body, "config": bad}), field)
        assert_graphql_400(await tenant.graphql(CREATE_CONNECTOR, {"i": {**body, "config": bad}}), field)
        assert await Connector.all().count() == 0
        made = await c.post("/api/v1/connectors", json={**body, "config": good})
        assert made.status_code == 201, made.text
        connector = made.json()["id"]
        assert_400(await c.put(f"/api/v1/connectors/{connector}", json={"config": bad}), field)
        assert_graphql_400(await tenant.graphql(UPDATE_CONNECTOR, {"id": connector, "c": bad}), field)
        after = (await c.get(f"/api/v1/connectors/{connector}")).json()
    assert after["config"] == good


SMTP_CONFIGS: list[tuple[dict[str, Any], str]] = [
    *[({"defaultFrom": f"ops@acme.test{mark}Bcc: evil@x.test"}, "config.defaultFrom") for mark in BREAKS],
    ({"defaultFrom": "Ops\u2028 <ops@acme.test>"}, "config.defaultFrom"),
    ({"defaultFrom": "a@x.test, b@x.test"}, "config.defaultFrom"),
    ({"defaultFrom": "not an address"}, "config.defaultFrom"),
    *[({"replyTo": f"help@acme.test{mark}X: y"}, "config.replyTo") for mark in BREAKS],
]


@pytest.mark.parametrize(("config", "field"), SMTP_CONFIGS, ids=repr)
async def test_smtp_config_that_no_send_could_use_is_refused(
    tenant: Tenant, config: dict[str, Any], field: str
) -> None:
    async with tenant.client() as c:
        body = {"name": "mail", "type": "smtp", "credentialId": await smtp_credential(c)}
    await refused_at_create_and_update(tenant, body, config, {"defaultFrom": "Ops <ops@acme.test>"}, field)


HTTP_HEADERS: list[tuple[dict[str, Any], str]] = [
    *[({"X-A": f"a{mark}b"}, "config.headers.X-A") for mark in BREAKS],
    ({"X-A": "caf\u00e9"}, "config.headers.X-A"),
    ({"X-A": "a\x7fb"}, "config.headers.X-A"),
    ({"X A": "v"}, "config.headers"),
    ({"X:A": "v"}, "config.headers"),
    ({"": "v"}, "config.headers"),
    ({"X\u00e9": "v"}, "config.headers"),
]


@pytest.mark.parametrize(("headers", "field"), HTTP_HEADERS, ids=repr)
async def test_http_config_headers_that_cannot_be_sent_are_refused(
    tenant: Tenant, headers: dict[str, Any], field: str
) -> None:
    body = {"name": "web", "type": "http"}
    await refused_at_create_and_update(tenant, body, {"headers": headers}, {"headers": {"X-A": "ok"}}, field)


async def test_http_headers_that_cannot_be_sent_name_the_headers_not_the_url(tenant: Tenant) -> None:
    """input.headers are checked when the call is made; so are config headers stored before creation
    checked them (written here straight into the row, as such a connector sits in the database)."""
    customer = CustomerApi()
    async with serving(customer), tenant.client() as c:
        created = await c.post("/api/v1/connectors", json={"name": "web", "type": "http",
                                                           "config": {"baseUrl": customer.base_url}})
        connector = created.json()["id"]
        run = f"/api/v1/connectors/{connector}/actions/request"
        assert_400(await c.post(run, json={"input": {"url": "/echo", "headers": {"X-A": "a\r\nb"}}}),
                   "input.headers.X-A")
        assert_400(await c.post(run, json={"input": {"url": "/echo", "headers": {"X-A": "caf\u00e9"}}}),
                   "input.headers.X-A")
        assert_400(await c.post(run, json={"input": {"url": "/echo", "headers": {"X A": "v"}}}), "input.headers")
        await Connector.filter(id=connector).update(config={"baseUrl": customer.base_url,
                                                            "headers": {"X-A": "a\r\nb"}})
        assert_400(await c.post(run, json={"input": {"url": "/echo"}}), "config.headers.X-A")
    assert customer.requests == [] and await ConnectorCall.all().count() == 0


TOKENS = [*[f"xoxb-1{mark}X-Injected: 1" for mark in BREAKS], "xoxb-caf\u00e9", "xoxb-\u2028", "x\x7fy",
          "x" * 8193]


HEADER_SECRETS = {"slack": ("oauth", "bot_token"), "discord": ("token", "bot_token"),
                  "stripe": ("api_key", "secret_key")}


@pytest.mark.parametrize("provider", list(HEADER_SECRETS))
@pytest.mark.parametrize("token", TOKENS, ids=lambda t: repr(t[:20]))
async def test_a_secret_that_cannot_go_in_a_header_is_refused(tenant: Tenant, provider: str, token: str) -> None:
    """Slack's and Discord's bot token and Stripe's secret key are sent as `Authorization: Bearer`."""
    kind, field = HEADER_SECRETS[provider]
    body = {"name": "bot", "type": kind, "provider": provider, "data": {field: token}}
    async with tenant.client() as c:
        assert_400(await c.post("/api/v1/credentials", json=body), f"data.{field}")
        assert_graphql_400(await tenant.graphql(CREATE_CREDENTIAL, {"i": body}), f"data.{field}")
        assert await Credential.all().count() == 0
        good = await c.post("/api/v1/credentials", json={**body, "data": {field: "xoxb-1-ok"}})
        assert good.status_code == 201, good.text
        credential = good.json()
        updated = await c.put(f"/api/v1/credentials/{credential['id']}", json={"data": {field: token}})
        assert_400(updated, f"data.{field}")
        after = (await c.get(f"/api/v1/credentials/{credential['id']}")).json()
    assert after["fingerprint"] == credential["fingerprint"]


@pytest.mark.parametrize("token", ["xoxb-1\r\nX: y", "xoxb-caf\u00e9"])
async def test_a_stored_bot_token_that_cannot_be_sent_names_the_credential(token: str) -> None:
    """Run-time side, for a token stored before credentials were checked: Invalid naming the field."""
    runs = [(slack_send, {"channel": "C1", "text": "x"}, "bot_token"),
            (discord_send, {"channel_id": "1", "content": "x"}, "bot_token"),
            (stripe_customer, {"email": "a@example.com"}, "secret_key")]
    for run, given, field in runs:
        async with action_call(given, {field: token}) as call:
            with pytest.raises(Invalid, match=field):
                await run(call)
