"""The hash chain, pure: an entry's canonical JSON and its hash over its predecessor's.

hash(entry) = SHA-256(previous entry's hash, as 64 hex characters || canonical JSON of the entry),
the first entry of an organization following GENESIS. The canonical JSON has sorted keys, no
spaces, the time in microseconds UTC and the entry's chain position, so a changed, removed or
reordered entry breaks its own hash and every one after it. Values are hashed as they read back
from the database, by the sealer and by verify alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

GENESIS: Final = "0" * 64


@dataclass(slots=True)
class ChainEntry:
    """The hashed fields of one entry, as stored."""

    id: str
    organization_id: str
    type: str
    resource_id: str | None
    actor: str
    key_id: str | None
    agent_id: str | None
    changes: dict[str, Any]
    request_id: str | None
    client_address: str | None
    created_at: datetime
    position: int | None = None
    hash: str | None = None


def exact_time(value: datetime) -> str:
    """The stored time to the microsecond, UTC, with `Z`. asyncpg reads a timestamptz already in
    UTC: converting it again was a third of this function's cost, paid per entry sealed or exported."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def canonical(entry: ChainEntry, position: int) -> bytes:
    """The bytes an entry's hash covers."""
    return orjson.dumps({
        "id": entry.id, "organizationId": entry.organization_id, "position": position, "type": entry.type,
        "resourceId": entry.resource_id, "actor": entry.actor, "keyId": entry.key_id, "agentId": entry.agent_id,
        "changes": entry.changes, "requestId": entry.request_id, "clientAddress": entry.client_address,
        "createdAt": exact_time(entry.created_at),
    }, option=orjson.OPT_SORT_KEYS)


def link(previous: str, entry: ChainEntry, position: int) -> str:
    """The hash of `entry` at `position` after an entry whose hash is `previous`."""
    return hashlib.sha256(previous.encode("ascii") + canonical(entry, position)).hexdigest()
