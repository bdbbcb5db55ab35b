"""Secrets in the forms a provider sees them: a Basic token built from a username and password, and
a secret that an error excerpt cuts through. Neither may reach an answer, a call record or an event."""

from __future__ import annotations

import orjson
from aiohttp import web

from models.connectors import ConnectorCall
from models.events import Event
from resolvers.connectors.redaction import basic_token, secret_strings
from tests.conftest import Tenant
from tests.connectors.fakes.base import FakeProvider, json_response, serving

USER, PASSWORD = "alice", "PLANTED-basic-password-6f2e"
BEARER = "PLANTED-http-bearer-straddle-90aa"
PAD = 480  # the excerpt of an error answer is cut at 500 characters: the secret crosses the cut


class Echoing(FakeProvider):
    """Answers with the Authorization header it received: whole (`/echo`), or in a 400 whose text
    puts it across the 500th character (`/straddle`)."""

    def __init__(self) -> None:
        super().__init__()
        self.app.router.add_route("*", "/echo", self.echo)
        self.app.router.add_route("*", "/straddle", self.straddle)
        self.app.router.add_route("*", "/named", self.named)

    async def echo(self, request: web.Request) -> web.Response:
        return json_response({"authorization": request.headers.get("Authorization")})

    async def named(self, request: web.Request) -> web.Response:
        """Echoes the API-key header by name and value, as a gateway's error might."""
        return json_response({"header": "X-Api-Key", "value": request.headers.get("X-Api-Key")})

    async def straddle(self, request: web.Request) -> web.Response:
        return web.Response(status=400, text="A" * PAD + str(request.headers.get("Authorization")))


async def _connector(tenant: Tenant, data: dict, base_url: str) -> str:
    async with tenant.client() as c:
        credential = await c.post("/api/v1/credentials", json={"name": "h", "type": "custom", "provider": "http",
                                                              "data": data})
        assert credential.status_code == 201, credential.text
        connector = await c.post("/api/v1/connectors", json={"name": "h", "type": "http", "config": {
            "baseUrl": base_url}, "credentialId": credential.json()["id"]})
        assert connector.status_code == 201, connector.text
        return str(connector.json()["id"])


async def _everything_recorded(tenant: Tenant) -> str:
    calls = await ConnectorCall.filter(organization_id=tenant.organization_id).values_list("error", flat=True)
    events = await Event.filter(organization_id=tenant.organization_id).values_list("data", flat=True)
    return orjson.dumps([list(calls), list(events)]).decode()


async def test_a_basic_token_is_redacted_wherever_an_endpoint_echoes_it(tenant: Tenant) -> None:
    token, fake = basic_token(USER, PASSWORD), Echoing()
    async with serving(fake) as base_url:
        connector = await _connector(tenant, {"username": USER, "password": PASSWORD}, base_url)
        async with tenant.client() as c:
            echoed = await c.post(f"/api/v1/connectors/{connector}/actions/request", json={"input": {"url": "/echo"}})
            failed = await c.post(f"/api/v1/connectors/{connector}/actions/request",
                                  json={"input": {"url": "/straddle"}})
    assert fake.requests[0].headers["Authorization"] == f"Basic {token}"  # what the provider was sent
    assert echoed.status_code == 200 and echoed.json()["output"]["body"] == {"authorization": "Basic [redacted]"}
    assert failed.status_code == 502, failed.text
    recorded = await _everything_recorded(tenant)
    for text in (echoed.text, failed.text, recorded):
        assert token[:8] not in text and PASSWORD not in text, text[-300:]


async def test_a_secret_across_the_excerpts_cut_leaves_no_part_of_itself(tenant: Tenant) -> None:
    """The excerpt was cut first and scrubbed after: `Bearer PLANTED-http-be` kept the secret's
    start, which no longer matched the secret."""
    async with serving(Echoing()) as base_url:
        connector = await _connector(tenant, {"token": BEARER}, base_url)
        async with tenant.client() as c:
            failed = await c.post(f"/api/v1/connectors/{connector}/actions/request",
                                  json={"input": {"url": "/straddle"}})
    assert failed.status_code == 502, failed.text
    assert "A" * 20 in failed.json()["message"]  # the provider's own text is there, as far as the cut
    recorded = await _everything_recorded(tenant)
    for text in (failed.text, recorded):
        assert BEARER[:8] not in text, text[-300:]


async def test_what_names_a_secret_is_not_itself_redacted(tenant: Tenant) -> None:
    """An API-key credential's header name (and an SMTP host) is where the secret goes, not a
    secret: redacting it hid `X-Api-Key` (or the host) in every answer that quoted it."""
    key = "PLANTED-api-key-value-31c9"
    async with serving(Echoing()) as base_url:
        connector = await _connector(tenant, {"apiKey": key, "header": "X-Api-Key"}, base_url)
        async with tenant.client() as c:
            echoed = await c.post(f"/api/v1/connectors/{connector}/actions/request", json={"input": {"url": "/named"}})
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["output"]["body"] == {"header": "X-Api-Key", "value": "[redacted]"}
    smtp = {"host": "smtp.example.com", "port": 587, "user": "mailer@example.com", "password": "PLANTED-pw-77"}
    assert secret_strings(smtp) == ["mailer@example.com", "PLANTED-pw-77"]
