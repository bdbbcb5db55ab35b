"""SMTP provider against a real aiosmtpd relay on 127.0.0.1: STARTTLS, AUTH, envelope, failures."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.core.settings import load_settings
from resolvers.connectors.failures import ProviderFailure
from resolvers.connectors.providers.smtp import (
    CONFIG,
    IDEMPOTENCY_HEADER,
    KIND,
    NO_STARTTLS,
    SEND_INPUT,
    SEND_OUTPUT,
    send_email,
)
from resolvers.errors import Invalid
from tests.conftest import free_port
from tests.connectors.calls import action_call
from tests.connectors.fakes.smtp import PASSWORD, USER, Certificate, FakeRelay, make_certificate, serving_smtp

MESSAGE = {"to": ["ann@example.com"], "subject": "Hello", "text": "Hi Ann"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
async def relay(certificate: Certificate) -> AsyncIterator[FakeRelay]:
    async with serving_smtp(FakeRelay(), certificate) as served:
        yield served


def secrets(relay: FakeRelay | None = None, **changes: Any) -> dict[str, Any]:
    port = relay.port if relay else free_port()
    return {"host": "127.0.0.1", "port": port, "user": USER, "password": PASSWORD, **changes}


async def send(input: dict[str, Any], secrets: dict[str, Any], certificate: Certificate | None = None,
               config: dict[str, Any] | None = None, **settings: Any) -> dict[str, Any]:
    """Run send_email, trusting `certificate` as the SMTP CA when given."""
    if certificate is not None:
        settings["smtp_ca_file"] = str(certificate.cert_file)
    async with action_call(input, secrets, config, **settings) as call:
        return await send_email(call)


def parts(message: EmailMessage) -> dict[str, str]:
    """Leaf parts by type, their content without the final line break (CRLF on the wire)."""
    return {part.get_content_type(): part.get_content().rstrip("\r\n")
            for part in message.walk() if not part.is_multipart()}


def secret_forms(password: str) -> list[bytes]:
    """How a password crosses the wire: as is, in AUTH LOGIN, in AUTH PLAIN."""
    return [password.encode(), base64.b64encode(password.encode()),
            base64.b64encode(f"\0{USER}\0{password}".encode())]


async def test_delivers_after_starttls_and_auth(relay: FakeRelay, certificate: Certificate) -> None:
    given = {
        "to": ["Ann <ann@example.com>", "bob@example.com"], "cc": ["cat@example.com"], "bcc": ["dan@example.com"],
        "subject": "Quarterly report", "text": "See the numbers.", "html": "<p>See the <b>numbers</b>.</p>",
        "from": "Reports <reports@acme.test>", "reply_to": "help@acme.test", "headers": {"X-Campaign": "q3"},
    }
    # By name and with the port as a string: connected to a checked address, verified for "localhost".
    out = await send(given, secrets(relay, host="localhost", port=str(relay.port)), certificate)

    [got] = relay.messages
    assert got.tls and got.user == USER
    assert got.mail_from == "reports@acme.test"
    assert got.rcpt_tos == ["ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"]
    message = got.message
    assert message["Subject"] == "Quarterly report"
    assert message["From"] == "Reports <reports@acme.test>"
    assert message["To"] == "Ann <ann@example.com>, bob@example.com"
    assert message["Cc"] == "cat@example.com"
    assert message["Bcc"] is None and b"dan@example.com" not in got.raw
    assert message["Reply-To"] == "help@acme.test"
    assert message["X-Campaign"] == "q3"
    assert message[IDEMPOTENCY_HEADER] == "idem-test-1"
    assert message["Date"] is not None
    assert message.get_content_type() == "multipart/alternative"
    assert parts(message) == {"text/plain": "See the numbers.", "text/html": "<p>See the <b>numbers</b>.</p>"}
    assert relay.logins == [("PLAIN", USER, True)]
    # Nothing but EHLO and STARTTLS went in clear.
    assert b"STARTTLS" in relay.cleartext and b"AUTH" not in relay.cleartext
    assert not any(form in relay.cleartext for form in secret_forms(PASSWORD))

    assert out == {
        "messageId": message["Message-ID"],
        "accepted": got.rcpt_tos,
        "rejected": {},
        "response": "250 2.0.0 OK queued as Q1",
    }
    assert out["messageId"].startswith("<") and out["messageId"].endswith("@acme.test>")
    Draft202012Validator(SEND_OUTPUT).validate(out)


async def test_auth_login_when_plain_is_not_offered(certificate: Certificate) -> None:
    async with serving_smtp(FakeRelay(), certificate, auth_exclude_mechanism=["PLAIN"]) as relay:
        await send({**MESSAGE, "to": "ann@example.com", "from": "a@acme.test"}, secrets(relay), certificate)
    assert relay.logins == [("LOGIN", USER, True)]
    assert [m.rcpt_tos for m in relay.messages] == [["ann@example.com"]]


@pytest.mark.parametrize(
    ("given", "config", "extra", "sender"),
    [
        ({"from": "in@acme.test"}, {"defaultFrom": "conf@acme.test"}, {"from": "cred@acme.test"}, "in@acme.test"),
        ({}, {"defaultFrom": "conf@acme.test"}, {"from": "cred@acme.test"}, "conf@acme.test"),
        ({}, {}, {"from": "cred@acme.test"}, "cred@acme.test"),
        ({}, {}, {}, USER),
    ],
)
async def test_sender_falls_back_from_input_to_config_to_credential_to_user(
    relay: FakeRelay, certificate: Certificate, given: dict[str, Any], config: dict[str, Any],
    extra: dict[str, Any], sender: str,
) -> None:
    html_only = {"to": "ann@example.com", "subject": "s", "html": "<p>hi</p>", **given}
    await send(html_only, secrets(relay, **extra), certificate, {**config, "replyTo": "desk@acme.test"})
    [got] = relay.messages
    assert got.mail_from == sender and got.message["From"] == sender
    assert got.message["Reply-To"] == "desk@acme.test"
    assert got.message.get_content_type() == "text/html"


async def test_implicit_tls(certificate: Certificate) -> None:
    async with serving_smtp(FakeRelay(), certificate, mode="tls") as relay:
        out = await send(MESSAGE, secrets(relay, security="tls"), certificate)
    [got] = relay.messages
    assert got.tls and got.user == USER and out["accepted"] == ["ann@example.com"]
    assert relay.cleartext == b""


async def test_some_recipients_refused_are_reported(certificate: Certificate) -> None:
    refuse = {"bob@example.com": "550 5.1.1 no such user"}
    async with serving_smtp(FakeRelay(refuse=refuse), certificate) as relay:
        out = await send({**MESSAGE, "to": ["ann@example.com", "bob@example.com"]}, secrets(relay), certificate)
    assert out["accepted"] == ["ann@example.com"]
    assert out["rejected"] == {"bob@example.com": "550 5.1.1 no such user"}
    assert [m.rcpt_tos for m in relay.messages] == [["ann@example.com"]]
    Draft202012Validator(SEND_OUTPUT).validate(out)


async def test_wrong_password_is_permanent_and_never_repeats_it(relay: FakeRelay, certificate: Certificate) -> None:
    wrong = "Wrong-Pass-2024"
    with pytest.raises(ProviderFailure) as failed:
        await send(MESSAGE, secrets(relay, password=wrong), certificate)
    assert not failed.value.retryable
    assert failed.value.message.startswith("smtp: authentication failed (535")
    assert wrong not in failed.value.message and wrong not in str(failed.value)
    assert relay.logins and not any(accepted for _, _, accepted in relay.logins)  # the relay did echo it
    assert relay.messages == []


@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "expected"),
    [("451 4.3.0 try again later", None, "451 4.3.0 try again later"),
     (None, "451 4.3.0 queue full", "451 4.3.0 queue full")],
)
async def test_temporary_refusals_are_retryable(
    certificate: Certificate, rcpt_reply: str | None, data_reply: str | None, expected: str
) -> None:
    async with serving_smtp(FakeRelay(rcpt_reply=rcpt_reply, data_reply=data_reply), certificate) as relay:
        with pytest.raises(ProviderFailure) as failed:
            await send(MESSAGE, secrets(relay), certificate)
    assert failed.value.retryable and expected in failed.value.message
    assert relay.messages == []


@pytest.mark.parametrize(
    ("rcpt_reply", "data_reply", "expected"),
    [("550 5.1.1 no such user", None, "550 5.1.1 no such user"),
     (None, "554 5.7.1 rejected as spam", "554 5.7.1 rejected as spam")],
)
async def test_permanent_refusals_are_not_retryable(
    certificate: Certificate, rcpt_reply: str | None, data_reply: str | None, expected: str
) -> None:
    async with serving_smtp(FakeRelay(rcpt_reply=rcpt_reply, data_reply=data_reply), certificate) as relay:
        with pytest.raises(ProviderFailure) as failed:
            await send(MESSAGE, secrets(relay), certificate)
    assert not failed.value.retryable and expected in failed.value.message
    assert relay.messages == []


async def test_nothing_listening_is_retryable(certificate: Certificate) -> None:
    with pytest.raises(ProviderFailure) as failed:
        await send(MESSAGE, secrets(), certificate)
    assert failed.value.retryable and "127.0.0.1" in failed.value.message


async def test_silent_server_times_out_retryably(certificate: Certificate) -> None:
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with action_call(MESSAGE, secrets(port=port), smtp_ca_file=str(certificate.cert_file),
                               timeout=0.3) as call:
            with pytest.raises(ProviderFailure) as failed:
                await send_email(call)
    finally:
        server.close()
        await server.wait_closed()
    assert failed.value.retryable and "timed out" in failed.value.message


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "hi\r\nBcc: x@y.test"},
        {"subject": "hi\nBcc: x@y.test"},
        {"to": ["ann@example.com\r\nBcc: x@y.test"]},
        {"cc": ["cat@example.com\rBcc: x@y.test"]},
        {"from": "me@acme.test\nBcc: x@y.test"},
        {"reply_to": "me@acme.test\r\nBcc: x@y.test"},
        {"headers": {"X-Note": "fine\r\nBcc: x@y.test"}},
        {"headers": {"Bcc": "x@y.test"}},
        {"headers": {"Content-Type": "text/html"}},
        {"to": ["ann@example.com, x@y.test"]},
        {"to": "not-an-address"},
    ],
)
async def test_unusable_input_is_invalid_and_nothing_is_sent(
    relay: FakeRelay, certificate: Certificate, change: dict[str, Any]
) -> None:
    with pytest.raises(Invalid):
        await send({**MESSAGE, **change}, secrets(relay), certificate)
    assert relay.connections == 0


@pytest.mark.parametrize(
    ("change", "word"),
    [({"security": "none"}, "security"), ({"port": "smtp"}, "port"), ({"port": 70000}, "port"),
     ({"host": "relay.test\r\nX"}, "host")],
)
async def test_unusable_credential_is_invalid(relay: FakeRelay, change: dict[str, Any], word: str) -> None:
    with pytest.raises(Invalid) as refused:
        await send(MESSAGE, secrets(relay, **change))
    assert word in refused.value.message and relay.connections == 0


async def test_guard_refuses_metadata_host() -> None:
    with pytest.raises(Invalid) as refused:
        await send(MESSAGE, secrets(host="169.254.169.254", port=587))
    assert "169.254.169.254" in refused.value.message


async def test_guard_refuses_private_host_unless_allowed(relay: FakeRelay, certificate: Certificate) -> None:
    strict = load_settings(allow_private_targets=False, smtp_ca_file=str(certificate.cert_file))
    async with action_call(MESSAGE, secrets(relay)) as call:
        with pytest.raises(Invalid) as refused:
            await send_email(dataclasses.replace(call, settings=strict))
    assert "127.0.0.1" in refused.value.message
    assert relay.connections == 0


async def test_server_without_starttls_never_gets_the_password(certificate: Certificate) -> None:
    async with serving_smtp(FakeRelay(), mode="plain") as relay:
        with pytest.raises(ProviderFailure) as failed:
            await send(MESSAGE, secrets(relay), certificate)
    assert not failed.value.retryable and failed.value.message == NO_STARTTLS
    assert relay.connections == 1 and b"EHLO" in relay.cleartext  # we did talk, in clear
    assert b"AUTH" not in relay.cleartext.upper() and relay.logins == []
    assert not any(form in relay.cleartext for form in secret_forms(PASSWORD))
    assert relay.messages == []


async def test_untrusted_certificate_is_permanent(relay: FakeRelay) -> None:
    with pytest.raises(ProviderFailure) as failed:
        await send(MESSAGE, secrets(relay))  # no smtp_ca_file: the system store does not know the relay
    assert not failed.value.retryable and "certificate" in failed.value.message
    assert relay.logins == [] and relay.messages == []


async def test_certificate_for_another_name_is_permanent(tmp_path: Path) -> None:
    localhost_only = make_certificate(tmp_path, names=("localhost",))
    async with serving_smtp(FakeRelay(), localhost_only) as relay:
        with pytest.raises(ProviderFailure) as failed:
            await send(MESSAGE, secrets(relay, host="127.0.0.1"), localhost_only)
    assert not failed.value.retryable and "certificate" in failed.value.message
    assert relay.logins == []


def test_schemas_are_valid_and_describe_the_action() -> None:
    action = KIND.actions["send_email"]
    for schema in (action.input_schema, action.output_schema, CONFIG):
        Draft202012Validator.check_schema(schema)
    assert (KIND.type, KIND.credential_type, KIND.credential_required) == ("smtp", "custom", True)
    assert KIND.required_fields == ("host", "port", "user", "password") and action.input_schema is SEND_INPUT
    validator = Draft202012Validator(SEND_INPUT, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert validator.is_valid({"to": "a@b.test", "subject": "s", "html": "<p/>"})
    assert not validator.is_valid({"to": "a@b.test", "subject": "s"})  # no body
    assert not validator.is_valid({"to": [], "subject": "s", "text": "t"})
    assert not validator.is_valid({"to": ["a@b.test"] * 51, "subject": "s", "text": "t"})
    assert not validator.is_valid({**MESSAGE, "headers": {"Bad:Name": "v"}})
