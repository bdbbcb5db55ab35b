"""A real SMTP relay for tests: aiosmtpd, served in the test's event loop on 127.0.0.1.

`make_certificate` writes a self-signed certificate for localhost/127.0.0.1 (made with cryptography)
into a directory; tests trust it through the `smtp_ca_file` setting. `serving_smtp` runs a relay in
one of three modes:

- "starttls" (default): like a submission server, STARTTLS required before anything else and AUTH
  (LOGIN, PLAIN) refused before TLS and required before MAIL;
- "tls": implicit TLS from the first byte (SMTPS);
- "plain": no TLS at all, yet AUTH advertised in clear: the trap a client must not walk into.

`FakeRelay` is the handler and the authenticator: it accepts one user/password, records each login
attempt, each accepted message (envelope and parsed email) and every byte clients sent in clear, and
can be told to refuse RCPT or DATA with a given reply. A refused login's reply echoes the password it
was given, as a careless server might, so tests can check it is never passed on.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import httpx
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

USER = "mailer@relay.test"
PASSWORD = "correct-Horse-battery-9"
Mode = Literal["starttls", "tls", "plain"]


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_certificate(directory: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> Certificate:
    """A self-signed certificate (its own CA, so it can sit in a CA bundle) valid for `names`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Gatehouse test relay")])
    now = datetime.now(UTC)
    usage = x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([_alt_name(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    found = Certificate(directory / "relay.crt", directory / "relay.key")
    found.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return found


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    tls: bool  # the session was encrypted (STARTTLS or implicit TLS)
    user: str | None  # who logged in


@dataclass
class FakeRelay:
    """Handler, authenticator and recorder; `rcpt_reply`/`data_reply` replace the 250s, `refuse`
    refuses single recipients (address -> reply)."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    refuse: dict[str, str] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)  # (mechanism, user, accepted)
    cleartext: bytearray = field(default_factory=bytearray)
    connections: int = 0
    port: int = 0

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        accepted = user == USER and password == PASSWORD
        self.logins.append((mechanism, user, accepted))
        if accepted:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad credentials {user}/{password}")

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self.refuse.get(address) or self.rcpt_reply
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        user = session.auth_data.login.decode() if session.auth_data else None
        tls = server.transport is not None and server.transport.get_extra_info("sslcontext") is not None
        self.messages.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw, tls, user))
        return f"250 2.0.0 OK queued as Q{len(self.messages)}"


class RecordingSMTP(SMTP):
    """aiosmtpd's SMTP, counting connections and keeping what arrives before any TLS."""

    def __init__(self, relay: FakeRelay, **options: Any) -> None:
        self._relay = relay
        super().__init__(relay, **options)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is None:  # a new connection, not the STARTTLS upgrade
            self._relay.connections += 1
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.transport is not None and self.transport.get_extra_info("sslcontext") is None:
            self._relay.cleartext += data
        super().data_received(data)


def _server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    return context


def _options(mode: Mode, certificate: Certificate | None) -> dict[str, Any]:
    if mode == "starttls":
        assert certificate is not None
        return {"tls_context": _server_context(certificate), "require_starttls": True, "auth_require_tls": True,
                "auth_required": True}
    # Implicit TLS: the whole session is encrypted, which aiosmtpd's auth_require_tls cannot see.
    # Plain: AUTH offered without TLS, to check the client declines.
    return {"auth_require_tls": False}


@asynccontextmanager
async def serving_smtp(relay: FakeRelay, certificate: Certificate | None = None, mode: Mode = "starttls",
                       port: int = 0, **smtp_options: Any) -> AsyncIterator[FakeRelay]:
    """Serve `relay` on 127.0.0.1 and `port` (0: a free one; set on relay.port) for the block's duration.
    `smtp_options` go to aiosmtpd's SMTP (e.g. auth_exclude_mechanism=["PLAIN"])."""
    loop = asyncio.get_running_loop()
    options = {"hostname": "relay.test", "authenticator": relay.authenticate, "loop": loop,
               **_options(mode, certificate), **smtp_options}
    ssl_context = _server_context(certificate) if mode == "tls" and certificate else None
    server = await loop.create_server(lambda: RecordingSMTP(relay, **options), "127.0.0.1", port, ssl=ssl_context,
                                      reuse_address=True)
    relay.port = server.sockets[0].getsockname()[1]
    try:
        yield relay
    finally:
        server.close()
        await server.wait_closed()


async def mail_connector(c: httpx.AsyncClient, port: int) -> str:
    """An smtp credential for the fake relay on `port` and a connector on it (sender
    gatehouse@acme.test); the connector's id."""
    data = {"host": "localhost", "port": port, "user": USER, "password": PASSWORD}
    credential = await c.post("/api/v1/credentials", json={"name": "mail", "type": "custom", "provider": "smtp",
                                                            "data": data})
    connector = await c.post("/api/v1/connectors", json={"name": "mail", "type": "smtp", "config": {
        "defaultFrom": "gatehouse@acme.test"}, "credentialId": credential.json()["id"]})
    assert connector.status_code == 201, connector.text
    return str(connector.json()["id"])
