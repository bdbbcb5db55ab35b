"""Checks on what a client asks a webhook to be: name, URL (through the outgoing-URL guard),
event patterns and custom headers. Each failure is a 400 naming the field."""

from __future__ import annotations

import fnmatch
import re

import httpx

from app.core.http import UnsafeURL, check_url_syntax, resolve_and_check
from app.core.settings import Settings
from resolvers.errors import Invalid
from resolvers.events.outbox import CATALOGUE

MAX_PATTERNS = 50
MAX_HEADERS = 20
RESERVED_HEADERS = frozenset({
    "content-type", "content-length", "host", "user-agent", "transfer-encoding", "connection",
    "x-webhook-signature", "x-webhook-event", "x-webhook-delivery",
    "webhook-id", "webhook-timestamp", "webhook-signature",
})
# Headers that steer how the request travels, not what it says: `Expect` makes the client wait for
# a 100 Continue, `Upgrade`/`TE`/`Trailer`/`Keep-Alive` and the proxy headers are the connection's,
# and `Content-Encoding` would tell the receiver the signed JSON body is compressed when it is not.
TRANSPORT_HEADERS = frozenset({
    "expect", "upgrade", "te", "trailer", "keep-alive", "proxy-authorization", "proxy-connection",
    "content-encoding",
})
MAX_PATTERN_LENGTH = 100  # the catalogue's names are under 40 characters
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")


async def check_url(url: str, settings: Settings) -> str:
    """Refuse a URL the guard would refuse; host names are resolved now and again at send time."""
    if len(url) > 2048 or "\x00" in url:
        raise Invalid("url must be at most 2048 characters, without NUL")
    allow = settings.allow_private_targets
    try:
        check_url_syntax(url, allow)
        parsed = httpx.URL(url)
        await resolve_and_check(parsed.host, parsed.port or 443, allow_private=allow)
    except UnsafeURL as exc:
        raise Invalid(f"url: {exc}") from None
    except (OSError, UnicodeError):
        pass  # unresolvable today may resolve tomorrow; the send-time guard still applies
    return url


def check_events(patterns: list[str]) -> list[str]:
    """Names from the catalogue or globs that cover at least one of them (`action.*`, `*`)."""
    if not patterns or len(patterns) > MAX_PATTERNS:
        raise Invalid(f"events must list 1 to {MAX_PATTERNS} event names or patterns")
    for pattern in patterns:
        if not isinstance(pattern, str) or not 0 < len(pattern) <= MAX_PATTERN_LENGTH:
            raise Invalid(f"events: each entry must be an event name or pattern of 1 to {MAX_PATTERN_LENGTH} "
                          "characters")
        if not any(fnmatch.fnmatchcase(name, pattern) for name in CATALOGUE):
            raise Invalid(f"events: {pattern!r} matches no event; known: {', '.join(CATALOGUE)}")
    return list(dict.fromkeys(patterns))


def header_name_ok(name: object) -> bool:
    """An HTTP header name (a token)."""
    return isinstance(name, str) and bool(_TOKEN.match(name))


def header_value_ok(value: object, limit: int = 1000) -> bool:
    """A header value that is sent as it is: at most `limit` printable ASCII characters (no CR or LF)."""
    return isinstance(value, str) and len(value) <= limit and all(" " <= c <= "~" or c == "\t" for c in value)


def check_headers(headers: dict[str, object]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise Invalid(f"headers: at most {MAX_HEADERS} custom headers")
    seen: set[str] = set()
    for name, value in headers.items():
        lowered = name.lower()
        if not header_name_ok(name) or lowered in seen:
            raise Invalid(f"headers: {name!r} is not a valid or unique header name")
        if lowered in RESERVED_HEADERS:
            raise Invalid(f"headers: {name!r} is set by Gatehouse and cannot be overridden")
        if lowered in TRANSPORT_HEADERS:
            raise Invalid(f"headers: {name!r} steers the request's transport and cannot be set")
        if not header_value_ok(value):
            raise Invalid(f"headers: the value of {name!r} must be at most 1000 printable ASCII characters")
        seen.add(lowered)
    return {name: str(value) for name, value in headers.items()}


def check_retry_policy(max_attempts: int | None, backoff_ms: int | None) -> None:
    if max_attempts is not None and not 1 <= max_attempts <= 20:
        raise Invalid("retryPolicy.maxAttempts must be between 1 and 20")
    if backoff_ms is not None and not 10 <= backoff_ms <= 3_600_000:
        raise Invalid("retryPolicy.backoffMs must be between 10 and 3600000")


