"""Prefixed, unguessable identifiers (`act_...`, `pol_...`) as the wire contract promises."""

from __future__ import annotations

import os

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LENGTH = 22  # 22 base62 characters carry about 131 bits of randomness
_UNBIASED_BELOW = 248  # 4 * 62: bytes under it map onto the alphabet evenly, the rest are dropped
_TO_ALPHABET = bytes(ord(_ALPHABET[b % 62]) for b in range(_UNBIASED_BELOW)) + bytes(256 - _UNBIASED_BELOW)
_BIASED = bytes(range(_UNBIASED_BELOW, 256))

PREFIXES = frozenset(
    {"org", "key", "act", "pol", "apr", "wf", "exec", "cred", "conn", "wh", "evt", "dlv", "hist"}
)


def new_id(prefix: str) -> str:
    """A fresh id for the given resource prefix."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{random_base62(_LENGTH)}"


def random_base62(length: int) -> str:
    """Random base62 text, for secrets that must survive copy-paste. One read of the OS CSPRNG per
    call, mapped onto the alphabet by `bytes.translate` (in C: the per-character Python loop was 3-5%
    of a proposal's CPU)."""
    text = b""
    while len(text) < length:
        text += os.urandom(length + 8).translate(_TO_ALPHABET, _BIASED)
    return text[:length].decode("ascii")
