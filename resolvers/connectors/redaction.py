"""Keeping credential data out of everything a call returns or records.

Providers echo what they were sent (an HTTP endpoint reflecting its headers, an error quoting a
token). Every string value of a credential that is long enough to be a secret is replaced wherever
it appears in an output, an error or a log line.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

MIN_SECRET_LENGTH = 4
REDACTED = "[redacted]"
# A credential's fields that say where its secret goes, not the secret: an SMTP server's host and
# port, the name of the header an API key is sent in. Redacting them hid `smtp.example.com` or
# `X-Api-Key` in every error that quoted them. The user name stays redacted: it names an account.
ADDRESSING_FIELDS = frozenset({"host", "port", "header"})


def secret_strings(data: Any) -> list[str]:
    """Every string in a credential's data but its ADDRESSING_FIELDS, longest first, and what is sent
    built from them: a username and password also as their Basic token, which an endpoint that
    echoes its headers gives back (the password itself never appears in it)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            username, password = value.get("username"), value.get("password")
            if isinstance(username, str) and isinstance(password, str):
                found.add(basic_token(username, password))
            for name, item in value.items():
                if value is not data or name not in ADDRESSING_FIELDS:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            found.add(value)

    walk(data)
    return sorted(found, key=len, reverse=True)


# Header names whose values are credentials wherever they are typed (an http call's input or its
# connector's config, an http_request step's config), not only in a credential's data: these words,
# or a name ending in "key" (`X-Api-Key`, `X-Customer-Key`) other than `Idempotency-Key`.
SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "password", "session")
NOT_SECRET_HEADERS = frozenset({"idempotency-key"})


def secret_header(name: str) -> bool:
    lowered = name.lower()
    if lowered in NOT_SECRET_HEADERS:
        return False
    return lowered.endswith("key") or any(word in lowered for word in SECRET_HEADER_WORDS)


def header_secrets(headers: Any) -> set[str]:
    """The values of `headers` whose names say they carry a credential, and each one's part after
    its scheme (`Bearer abc` also as `abc`: an endpoint may quote the token alone)."""
    found: set[str] = set()
    if not isinstance(headers, dict):
        return found
    for name, value in headers.items():
        if isinstance(value, str) and secret_header(str(name)):
            found.update(part for part in (value, value.partition(" ")[2].strip()) if len(part) >= MIN_SECRET_LENGTH)
    return found


def call_secrets(data: Any, *typed_headers: Any) -> list[str]:
    """What a call's outputs and errors are scrubbed of: its credential's strings (`secret_strings`)
    and the credential-like headers typed beside it, longest first."""
    found = set(secret_strings(data)).union(*map(header_secrets, typed_headers))
    return sorted(found, key=len, reverse=True)


def basic_token(username: str, password: str) -> str:
    """What `Authorization: Basic ...` carries for this pair (the http provider sends it)."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub_then_cut(text: str, secrets: Iterable[str], limit: int) -> str:
    """`text` scrubbed whole, then cut to `limit` characters: cut first, a secret across the cut
    kept its first part (`Bearer xoxb-SLACKSEC`), which no longer matched the secret."""
    return scrub_text(text, secrets)[:limit]


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` with every secret replaced in its strings and keys, at any depth."""
    if not secrets:
        return value
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {scrub_text(str(k), secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value
