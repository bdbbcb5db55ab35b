"""Prefixed, unguessable identifiers (`act_...`, `pol_...`) as the wire contract promises."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LENGTH = 22  # 22 base62 characters carry about 131 bits of randomness

PREFIXES = frozenset(
    {"org", "key", "act", "pol", "apr", "wf", "exec", "cred", "conn", "wh", "evt", "dlv", "hist"}
)


def new_id(prefix: str) -> str:
    """A fresh id for the given resource prefix."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))}"


def random_base62(length: int) -> str:
    """Random base62 text, for secrets that must survive copy-paste."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
