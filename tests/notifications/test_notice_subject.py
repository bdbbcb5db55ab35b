"""An action type with a line break (CRLF, U+2028, U+0085, ...) must not stop or crash-loop the
approver's email notice: the subject made from it is cleaned, and the notice is delivered."""

from __future__ import annotations

from typing import Any

import pytest

from models.notifications import Notification
from tests.approvals.helpers import make_policy, propose
from tests.conftest import SMTP_CERTIFICATE, Tenant, free_port
from tests.connectors.fakes import smtp as smtp_fake
from tests.webhooks.receiver import eventually

SMTP_PORT = free_port()
RULE = {"when": {"actionType": "refund*"}, "approval": "manual"}


@pytest.mark.parametrize("kind", [
    "refund\r\nBcc: evil@x.com", "refund\u2028x", "refund\u0085x", "refund\u2029x", "refund\x0bx", "refund\tx",
])
async def test_a_line_break_in_the_action_type_does_not_stop_the_email_notice(tenant: Tenant, kind: str) -> None:
    relay = smtp_fake.FakeRelay()
    async with smtp_fake.serving_smtp(relay, SMTP_CERTIFICATE, port=SMTP_PORT), tenant.client() as c:
        mail_id = await smtp_fake.mail_connector(c, SMTP_PORT)
        await make_policy(c, rules=[RULE], notify=[{"connector": mail_id, "input": {"to": ["ops@acme.test"]}}])
        action = await propose(c, type=kind)
        assert action["status"] == "pending_approval", action

        async def settled() -> list[Any]:
            rows = await Notification.filter(action_id=action["actionId"])
            return [r for r in rows if r.status != "pending" or r.attempts > 0]

        await eventually(settled, within=20)
        listed = (await c.get(f"/api/v1/actions/{action['actionId']}/notifications")).json()
    assert [(n["status"], n["attempts"], n["lastError"]) for n in listed] == [("sent", 1, None)], listed
    [got] = relay.messages
    assert got.rcpt_tos == ["ops@acme.test"]  # no Bcc smuggled in
    subject = str(got.message["Subject"])
    assert subject.startswith("[Gatehouse] refund x") or subject.startswith("[Gatehouse] refund  Bcc"), subject
    assert "waits for approval" in subject
    assert got.message["Bcc"] is None


@pytest.mark.parametrize(("given", "field"), [
    ({"to": ["ops@acme.test"], "subject": "refund\u2028Bcc: evil@x.test"}, "notify[0].input.subject"),
    ({"to": ["ops@acme.test"], "subject": "refund\r\nBcc: evil@x.test"}, "notify[0].input.subject"),
    ({"to": ["ops@acme.test"], "headers": {"X-A": "a\u0085b"}}, "notify[0].input.headers.X-A"),
    ({"to": ["ops@acme.test\u2028"]}, "notify[0].input.to[0]"),
    ({"to": ["ops@acme.test"], "from": "a@x.test, b@x.test"}, "notify[0].input.from"),
])
async def test_a_notify_email_input_no_send_could_use_is_refused(
    tenant: Tenant, given: dict[str, Any], field: str
) -> None:
    """A policy's own email input with such a value would fail every notice: a 400 when written."""
    async with tenant.client() as c:
        mail_id = await smtp_fake.mail_connector(c, SMTP_PORT)
        answer = await c.post("/api/v1/policy", json={"name": "p", "rules": [RULE],
                                                      "notify": [{"connector": mail_id, "input": given}]})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "VALIDATION_ERROR" and answer.json()["message"].startswith(field), answer.text
        listed = (await c.get("/api/v1/policy")).json()
    assert listed == []
    graphql = await tenant.graphql("mutation($n: JSON) { createPolicy(input: {rules: [], notify: $n}) { id } }",
                                   {"n": [{"connector": mail_id, "input": given}]})
    assert graphql["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR", graphql
