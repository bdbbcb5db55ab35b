"""Ids as clients send them: one that no row can have is simply not found (never a database error)."""

from __future__ import annotations

from resolvers.errors import NotFound

MAX_ID_LENGTH = 64


def lookup_id(value: str, what: str) -> str:
    """Return `value` if it could be an id; otherwise raise NotFound naming `what`."""
    if "\x00" in value or len(value) > MAX_ID_LENGTH:
        raise NotFound(f"{what} not found")
    return value
