"""Prefixed, unguessable identifiers (`act_...`, `pol_...`) as the wire contract promises."""

from __future__ import annotations

import os
import threading

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LENGTH = 22  # 22 base62 characters carry about 131 bits of randomness
_UNBIASED_BELOW = 248  # 4 * 62: bytes under it map onto the alphabet evenly, the rest are dropped
_TO_ALPHABET = bytes(ord(_ALPHABET[b % 62]) for b in range(_UNBIASED_BELOW)) + bytes(256 - _UNBIASED_BELOW)
_BIASED = bytes(range(_UNBIASED_BELOW, 256))

PREFIXES = frozenset(
    {"org", "key", "act", "pol", "apr", "wf", "exec", "cred", "conn", "wh", "evt", "dlv", "hist", "call", "agt",
     "ntf", "grp", "mcp", "mcall", "aud"}
)


def new_id(prefix: str) -> str:
    """A fresh id for the given resource prefix."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{random_base62(_LENGTH)}"


def random_base62(length: int) -> str:
    """Random base62 text, for ids and secrets that must survive copy-paste: CSPRNG bytes mapped onto
    the alphabet by `bytes.translate` (in C: the per-character Python loop was 3-5% of a proposal's
    CPU), the biased bytes dropped."""
    text = b""
    while len(text) < length:
        text += _random_bytes(length + 8).translate(_TO_ALPHABET, _BIASED)
    return text[:length].decode("ascii")


_POOL_BYTES = 4096
_pool = bytearray()
_pool_lock = threading.Lock()


def _random_bytes(count: int) -> bytes:
    """`os.urandom` bytes, read 4 KiB at a time: a system call per id was 3% of a proposal's CPU on
    this sandboxed machine, where system calls are dear. Each byte is handed out once; a forked
    child starts with an empty pool, so it never repeats its parent's bytes."""
    with _pool_lock:
        if len(_pool) < count:
            _pool.extend(os.urandom(max(_POOL_BYTES, count)))
        taken = bytes(_pool[:count])
        del _pool[:count]
    return taken


def _empty_pool() -> None:
    global _pool_lock
    _pool.clear()
    _pool_lock = threading.Lock()  # a lock held by another thread at fork time would never be released


os.register_at_fork(after_in_child=_empty_pool)
