"""send_email with a header value Python's email package refuses (U+2028, U+2029, NEL, VT, FF ...)
answered 500 INTERNAL (ValueError from email/policy.py) where CR/LF already gave a 400; so did an
address the stdlib parser trips over (AttributeError). Each is a 400 naming the field, in both
doors, and nothing is sent or logged as a call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from models.connectors import ConnectorCall
from tests.conftest import SMTP_CERTIFICATE, Tenant, free_port
from tests.connectors.fakes import smtp as smtp_fake

SMTP_PORT = free_port()
MESSAGE = {"to": ["a@example.com"], "subject": "hi", "text": "b"}
RUN = ("mutation($id: ID!, $i: JSON!) { runConnectorAction(connectorId: $id, action: \"send_email\", input: $i) "
       "{ callId } }")
BREAKS = ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c", "\x1c", "\r\n", "\n"]


@pytest.fixture
async def relay() -> AsyncIterator[smtp_fake.FakeRelay]:
    served = smtp_fake.FakeRelay()
    async with smtp_fake.serving_smtp(served, SMTP_CERTIFICATE, port=SMTP_PORT):
        yield served


def cases() -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for mark in BREAKS:
        found.append(({"subject": f"hi{mark}Bcc: x@evil.test"}, "input.subject"))
        found.append(({"headers": {"X-A": f"a{mark}b"}}, "input.headers.X-A"))
        found.append(({"from": f"Ann{mark}Bcc <ann@acme.test>"}, "input.from"))
    found.append(({"from": ".<x.?==(="}, "input.from"))  # AttributeError inside the stdlib's parser
    found.append(({"reply_to": "\x80?\t@["}, "input.reply_to"))
    return found


async def test_a_header_the_email_package_refuses_is_a_400_in_both_doors(
    tenant: Tenant, relay: smtp_fake.FakeRelay
) -> None:
    async with tenant.client() as c:
        connector = await smtp_fake.mail_connector(c, SMTP_PORT)
        for change, field in cases():
            given = {**MESSAGE, **change}
            answer = await c.post(f"/api/v1/connectors/{connector}/actions/send_email", json={"input": given})
            assert answer.status_code == 400, (change, answer.text)
            body = answer.json()
            assert body["error"] == "VALIDATION_ERROR", (change, body)
            assert field.removeprefix("input.").split(".")[0] in body["message"], (change, body)
            graphql = await tenant.graphql(RUN, {"id": connector, "i": given})
            assert graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", (change, graphql)
        assert relay.messages == [] and await ConnectorCall.all().count() == 0
        # the same fields without the break go through
        sent = await c.post(f"/api/v1/connectors/{connector}/actions/send_email", json={"input": {
            **MESSAGE, "subject": "hi Bcc: x@evil.test", "headers": {"X-A": "a b"}}})
    assert sent.status_code == 200, sent.text
    [got] = relay.messages
    assert got.rcpt_tos == ["a@example.com"] and got.message["Subject"] == "hi Bcc: x@evil.test"
    assert got.message["X-A"] == "a b"
