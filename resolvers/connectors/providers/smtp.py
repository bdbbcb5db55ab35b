"""SMTP / Email: one `send_email` action, delivered with aiosmtplib through the credential's relay.

The relay's host goes through the outgoing-address guard (`resolve_and_check`) and the socket is
connected to the very address that was checked, so a second DNS answer cannot redirect it; aiosmtplib
is handed that socket with the host *name*, which it uses for TLS SNI and certificate verification
(system store plus `settings.smtp_ca_file`). The password only ever travels over TLS: security
"starttls" (the default, except on port 465) refuses a server that does not offer STARTTLS, "tls" is
implicit TLS; there is no cleartext mode.

5xx replies, refused logins and untrusted certificates are permanent failures; 4xx replies, timeouts,
refused or dropped connections and TLS handshake errors are retryable. A retry after a lost final
reply can deliver twice: the `X-Gatehouse-Idempotency-Key` header lets receivers drop the duplicate.
`call.timeout` bounds the whole exchange up to the reply to DATA.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from aiosmtplib import (
    SMTP,
    SMTPAuthenticationError,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponse,
    SMTPResponseException,
)

from app.core.http import UnsafeURL, resolve_and_check
from app.core.settings import Settings
from resolvers.connectors.failures import ProviderFailure
from resolvers.connectors.kinds import Action, ActionCall, ConnectorKind, schema
from resolvers.credentials.requirements import port_number
from resolvers.errors import Invalid

IDEMPOTENCY_HEADER = "X-Gatehouse-Idempotency-Key"
NO_STARTTLS = "smtp: server does not offer STARTTLS; refusing to send the password in clear"
IMPLICIT_TLS_PORT = 465
QUIT_TIMEOUT = 5.0
MAX_RECIPIENTS = 50

# CR, LF and every other control character but tab: what a header value must never carry.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The policy EmailMessage() composes with: its header_store_parse refuses a value holding any line
# break str.splitlines() knows (also NEL U+0085, U+2028, U+2029), with a ValueError.
_POLICY = email.policy.default
HEADER_NAME = r"^[!-9;-~]{1,76}$"  # RFC 5322 field name: printable ASCII but ':'
# Headers the action sets itself: an extra header must not replace or duplicate them.
RESERVED_HEADERS = frozenset({
    "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
    "return-path", "received", IDEMPOTENCY_HEADER.lower(),
})
RESERVED_PREFIXES = ("content-", "resent-")
_HEADERS = HeaderRegistry()

ADDRESS = {"type": "string", "minLength": 3, "maxLength": 320,
           "description": 'an address: "a@example.com" or "Name <a@example.com>"'}
ADDRESSES = {"type": "array", "items": ADDRESS, "maxItems": MAX_RECIPIENTS}
BODY = {"type": "string", "maxLength": 1_000_000}

SEND_INPUT = schema(
    {
        "to": {"anyOf": [ADDRESS, {**ADDRESSES, "minItems": 1}]},
        "cc": ADDRESSES,
        "bcc": {**ADDRESSES, "description": "envelope recipients only: never written in the headers"},
        "subject": {"type": "string", "maxLength": 998},
        "text": {**BODY, "description": "plain-text body"},
        "html": {**BODY, "description": "HTML body; with text, sent as multipart/alternative"},
        "from": {**ADDRESS, "description": "defaults to config.defaultFrom, the credential's from, then its user"},
        "reply_to": ADDRESS,
        "headers": {"type": "object", "maxProperties": 20, "propertyNames": {"pattern": HEADER_NAME},
                    "additionalProperties": {"type": "string", "maxLength": 998}},
    },
    ["to", "subject"],
    anyOf=[{"required": ["text"]}, {"required": ["html"]}],
)
SEND_OUTPUT = schema(
    {
        "messageId": {"type": "string"},
        "accepted": {"type": "array", "items": {"type": "string"}},
        "rejected": {"type": "object", "additionalProperties": {"type": "string"},
                     "description": 'recipient -> "code message", for those the relay refused'},
        "response": {"type": "string", "description": "the relay's reply to DATA"},
    },
    ["messageId", "accepted", "rejected", "response"],
)
CONFIG = schema({"defaultFrom": ADDRESS, "replyTo": ADDRESS})


@dataclass(frozen=True, slots=True)
class Account:
    """The credential's relay, read and checked."""

    host: str
    port: int
    user: str
    password: str
    sender: str | None
    implicit_tls: bool

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A composed message and its envelope (bcc only here, never in the headers)."""

    sender: str
    recipients: list[str]
    message: EmailMessage


def _port(value: Any) -> int:
    """Credentials store the port as an int or a string of ASCII digits (requirements.py checks it
    the same way: "¹" passes str.isdigit() but not int())."""
    port = port_number(value)
    if port is None:
        raise Invalid("the credential's port must be a port number (1-65535)")
    return port


def account_of(secrets: dict[str, Any]) -> Account:
    """The relay from the credential data; security defaults to implicit TLS on 465, else STARTTLS."""
    host = str(secrets.get("host") or "").strip()
    if not host or any(char.isspace() or _CONTROL.match(char) for char in host):
        raise Invalid("the credential's host must be a host name or address")
    port = _port(secrets.get("port"))
    security = secrets.get("security") or ("tls" if port == IMPLICIT_TLS_PORT else "starttls")
    if security not in ("starttls", "tls"):
        raise Invalid('the credential\'s security must be "starttls" or "tls" (passwords never go in clear)')
    user = str(secrets.get("user") or "")
    if not user:
        raise Invalid("the credential's user is required")
    sender = secrets.get("from")
    return Account(host, port, user, str(secrets.get("password") or ""),
                   str(sender) if sender else None, security == "tls")


def header_value_refused(text: str) -> bool:
    """Whether `text` cannot be a header value: a control character but tab, or a line break the
    email policy itself refuses (asked, not guessed: it also refuses U+2028, U+2029 and NEL). The
    policy lets one through at the very end, where nothing follows it yet; it is asked with a
    character appended, so a break is refused wherever it sits."""
    if _CONTROL.search(text):
        return True
    try:
        _POLICY.header_store_parse("X-Gatehouse-Check", text + "_")
    except ValueError:
        return True
    return False


def _clean(value: Any, field: str) -> str:
    """A header value, refused if it could start a new header (a line break) or carries other controls."""
    text = str(value)
    if header_value_refused(text):
        raise Invalid(f"{field} must not contain line breaks or control characters")
    return text


def _single_address(text: str) -> Address | None:
    """The one address `text` holds, parsed as the To header will be; None for anything else
    (a list, a group, a defect: parseaddr would silently keep the first of "a@x, b@y"). The
    stdlib's parser also trips over some malformed text with errors of its own (AttributeError for
    ".<x.?==(=", UnboundLocalError for "\x80@[ "): that is not an address either."""
    try:
        header = _HEADERS("to", text)
        if not isinstance(header, AddressHeader) or header.defects or len(header.addresses) != 1:
            return None
        if header.groups[0].display_name is not None:  # "team: a@x;" is a group, not a mailbox
            return None
        address: Address = header.addresses[0]
    except (HeaderParseError, LookupError, ValueError, AttributeError, TypeError, NameError):
        return None
    return address if address.username and address.domain else None


def _mailbox(value: Any, field: str) -> Address:
    """One address, plain or with a display name."""
    address = _single_address(_clean(value, field))
    if address is None:
        raise Invalid(f"{field} is not one email address: {str(value)[:100]!r}")
    return address


def _mailboxes(value: Any, field: str) -> list[Address]:
    values = [value] if isinstance(value, str) else list(value or [])
    if len(values) > MAX_RECIPIENTS:
        raise Invalid(f"{field} takes at most {MAX_RECIPIENTS} addresses")
    return [_mailbox(item, f"{field}[{index}]") for index, item in enumerate(values)]


def _sender(call: ActionCall, account: Account) -> Address:
    """input.from, else config.defaultFrom, else the credential's from, else its user."""
    for field, value in (("input.from", call.input.get("from")), ("config.defaultFrom", call.config.get("defaultFrom")),
                         ("the credential's from", account.sender)):
        if value:
            return _mailbox(value, field)
    if "@" not in account.user:
        raise Invalid("no sender: set input.from, config.defaultFrom or the credential's from "
                      "(the credential's user is not an address)")
    return _mailbox(account.user, "the credential's user")


def _extra_headers(message: EmailMessage, headers: dict[str, Any]) -> None:
    for name, value in headers.items():
        if not re.match(HEADER_NAME, name):
            raise Invalid(f"headers: {name[:80]!r} is not a header name")
        lowered = name.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_PREFIXES):
            raise Invalid(f"headers: {name} is set by the action itself; use its own input field")
        message[name] = _clean(value, f"headers.{name}")


def _body(message: EmailMessage, text: str | None, html: str | None) -> None:
    """text, html, or both as multipart/alternative (text first: the least preferred part)."""
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    else:
        raise Invalid("give text, html or both")


def _message_id(sender: Address) -> str:
    domain = sender.domain if sender.domain.isascii() else "gatehouse.invalid"
    return make_msgid(domain=domain)  # with a domain: no blocking getfqdn()


def compose(call: ActionCall, account: Account) -> Outgoing:
    """The message and its envelope, with every value checked before anything is sent."""
    given = call.input
    sender = _sender(call, account)
    to, cc = _mailboxes(given.get("to"), "to"), _mailboxes(given.get("cc"), "cc")
    bcc = _mailboxes(given.get("bcc"), "bcc")
    if not to:
        raise Invalid("to needs at least one address")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = tuple(to)
    if cc:
        message["Cc"] = tuple(cc)
    reply_to = given.get("reply_to") or call.config.get("replyTo")
    if reply_to:
        message["Reply-To"] = _mailbox(reply_to, "reply_to" if given.get("reply_to") else "config.replyTo")
    message["Subject"] = _clean(given.get("subject", ""), "subject")
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = _message_id(sender)
    message[IDEMPOTENCY_HEADER] = _clean(call.idempotency_key, "idempotency key")
    _extra_headers(message, given.get("headers") or {})
    _body(message, given.get("text"), given.get("html"))
    recipients = list(dict.fromkeys(address.addr_spec for address in (*to, *cc, *bcc)))
    return Outgoing(sender.addr_spec, recipients, message)


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Verifying context: system store, plus the configured CA bundle (a private relay's CA)."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


async def _open_socket(addresses: list[str], port: int) -> socket.socket:
    """A socket connected to the first of the checked addresses that answers."""
    loop = asyncio.get_running_loop()
    failure: OSError = OSError(f"no address to connect to on port {port}")
    for address in addresses:
        sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (address, port))
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise failure


async def connect_checked(account: Account, settings: Settings) -> socket.socket:
    """Resolve the host through the guard (a refused host is the caller's input: Invalid) and
    connect to an address it accepted."""
    try:
        addresses = await resolve_and_check(account.host, account.port, settings.allow_private_targets)
    except UnsafeURL as exc:
        raise Invalid(f"smtp: {exc}") from None
    return await _open_socket(addresses, account.port)


async def secure_and_login(smtp: SMTP, account: Account) -> None:
    """STARTTLS unless already on TLS, required before the password is sent; then log in."""
    if not account.implicit_tls:
        await smtp.ehlo()
        if not smtp.supports_extension("starttls"):
            raise ProviderFailure(NO_STARTTLS, retryable=False)
        await smtp.starttls()  # verifies the certificate for smtp.hostname, the credential's host
    if smtp.get_transport_info("sslcontext") is None:
        raise ProviderFailure(NO_STARTTLS, retryable=False)
    await smtp.login(account.user, account.password)


async def _quit(smtp: SMTP) -> None:
    """Say goodbye; the message is already accepted, so a failing QUIT changes nothing."""
    with contextlib.suppress(SMTPException, OSError):
        await smtp.quit(timeout=QUIT_TIMEOUT)


async def transact(call: ActionCall, account: Account, outgoing: Outgoing,
                   context: ssl.SSLContext) -> tuple[dict[str, SMTPResponse], str]:
    """Connect, secure, log in and send within call.timeout; (refused recipients, DATA reply)."""
    smtp = SMTP(hostname=account.host, use_tls=account.implicit_tls, start_tls=False, tls_context=context,
                timeout=call.timeout)
    try:
        async with asyncio.timeout(call.timeout):
            sock = await connect_checked(account, call.settings)
            try:
                await smtp.connect(sock=sock)
            except BaseException:
                sock.close()
                raise
            await secure_and_login(smtp, account)
            result = await smtp.send_message(outgoing.message, sender=outgoing.sender,
                                             recipients=outgoing.recipients)
        await _quit(smtp)
        return result
    finally:
        smtp.close()


def _cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """A certificate refusal anywhere in exc's chain: aiosmtplib wraps an implicit-TLS handshake
    failure in SMTPConnectError, while STARTTLS lets it through as is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _reply(code: int, message: str) -> str:
    return " ".join(f"{code} {message}".split())


def _refused(exc: SMTPRecipientsRefused) -> tuple[str, bool]:
    """Every recipient refused: worth retrying only if every refusal was temporary (4xx)."""
    detail = "; ".join(f"{refusal.recipient}: {_reply(refusal.code, refusal.message)}" for refusal in exc.recipients)
    retryable = all(400 <= refusal.code < 500 for refusal in exc.recipients)
    return f"smtp: every recipient was refused ({detail})", retryable


def _classify(exc: BaseException, account: Account, timeout: float) -> tuple[str, bool]:
    """(message, retryable) for what aiosmtplib or the socket raised."""
    if (cert := _cert_error(exc)) is not None:
        return f"smtp: TLS certificate of {account.host} not accepted ({cert.verify_message})", False
    if isinstance(exc, SMTPAuthenticationError):
        return f"smtp: authentication failed ({_reply(exc.code, exc.message)})", False
    if isinstance(exc, SMTPRecipientsRefused):
        return _refused(exc)
    if isinstance(exc, SMTPResponseException):  # sender refused, DATA, EHLO, greeting, STARTTLS
        return f"smtp: {account.where} answered {_reply(exc.code, exc.message)}", 400 <= exc.code < 500
    if isinstance(exc, TimeoutError):
        return f"smtp: {account.where} timed out after {timeout:g} s", True
    if isinstance(exc, OSError):  # refused, reset, unresolvable, TLS handshake (aiosmtplib's too)
        return f"smtp: cannot talk to {account.where}: {exc}", True
    return f"smtp: {exc}", False  # the server cannot do what is needed (no AUTH, no SMTPUTF8)


def failure(exc: BaseException, account: Account, timeout: float) -> ProviderFailure:
    message, retryable = _classify(exc, account, timeout)
    if account.password:  # a server may echo what it was sent
        message = message.replace(account.password, "[redacted]")
    return ProviderFailure(message, retryable=retryable)


async def send_email(call: ActionCall) -> dict[str, Any]:
    """Check and compose everything first (Invalid: nothing sent), then deliver."""
    account = account_of(call.secrets)
    outgoing = compose(call, account)
    context = await asyncio.to_thread(_tls_context, call.settings.smtp_ca_file)
    try:
        refused, reply = await transact(call, account, outgoing, context)
    except (SMTPException, OSError) as exc:
        raise failure(exc, account, call.timeout) from None
    return {
        "messageId": str(outgoing.message["Message-ID"]),
        "accepted": [address for address in outgoing.recipients if address not in refused],
        "rejected": {address: _reply(answer.code, answer.message) for address, answer in refused.items()},
        "response": _reply(250, reply),  # aiosmtplib returns only after a 250 to DATA
    }


async def check_config(config: dict[str, Any], settings: Settings) -> None:
    """config.defaultFrom and config.replyTo must be one address each that can go in a header, as
    every send checks them: one with a line break was stored, and every send then failed."""
    for name in ("defaultFrom", "replyTo"):
        if config.get(name):
            _mailbox(config[name], f"config.{name}")


def check_input(given: dict[str, Any]) -> None:
    """What `compose` refuses in an action's input alone, without the credential or the connector
    (a policy's notify entry is checked with it when written): addresses, subject, extra headers."""
    for field in ("to", "cc", "bcc"):
        _mailboxes(given.get(field), field)
    for field in ("from", "reply_to"):
        if given.get(field):
            _mailbox(given[field], field)
    _clean(given.get("subject", ""), "subject")
    _extra_headers(EmailMessage(), given.get("headers") or {})


KIND = ConnectorKind(
    type="smtp",
    name="SMTP / Email",
    description="Send email through an SMTP relay (STARTTLS or implicit TLS, authenticated)",
    credential_type="custom",
    credential_required=True,
    required_fields=("host", "port", "user", "password"),
    config_schema=CONFIG,
    check_config=check_config,
    actions={
        "send_email": Action("send_email", "Send an email (text and/or HTML) to up to 50 recipients per field",
                             SEND_INPUT, SEND_OUTPUT, send_email),
    },
)
