"""Reading audit entries in chain order, in bounded batches, on PostgreSQL (asyncpg rows) or SQLite
(the ORM): the sealer, verify and export all read through here."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, Final

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Max, Min

from models.audit import AuditEntry
from models.db import is_postgres, pg_fetch
from resolvers.audit.chain import ChainEntry

BATCH: Final = 1000
_FIELDS: Final = tuple(f.name for f in fields(ChainEntry))  # in ChainEntry's order: rows are read by position
_SELECT: Final = ", ".join(f"{name}::text" if name == "changes" else name for name in _FIELDS)
_UNSEALED_PG: Final = f"SELECT {_SELECT}, seq FROM audit_entries WHERE position IS NULL ORDER BY seq LIMIT $1"
_SEALED_PG: Final = f"""
SELECT {_SELECT} FROM audit_entries
WHERE organization_id = $1 AND position > $2 AND position <= $3
  AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
ORDER BY position LIMIT $6
"""


def _of_record(row: Any) -> ChainEntry:
    """By position, in `_FIELDS`' order (ChainEntry's): looking each field up by name was about a
    third of the sealer's Python per entry."""
    return ChainEntry(row[0], row[1], row[2], row[3], row[4], row[5], row[6], orjson.loads(row[7]), row[8], row[9],
                      row[10], row[11], row[12])


def of_model(row: AuditEntry) -> ChainEntry:
    return ChainEntry(**{name: getattr(row, name) for name in _FIELDS})


async def unsealed(conn: BaseDBAsyncClient, limit: int = BATCH) -> list[tuple[int, ChainEntry]]:
    """The oldest entries without a chain position, with their seq, in insertion order."""
    if is_postgres(conn):
        return [(r[-1], _of_record(r)) for r in await pg_fetch(_UNSEALED_PG, limit, conn=conn)]  # seq comes last
    rows = await AuditEntry.filter(position__isnull=True).order_by("seq").limit(limit).using_db(conn)
    return [(r.seq, of_model(r)) for r in rows]


async def position_bounds(
    organization_id: str, after: int, until: int, since: datetime | None, before: datetime | None
) -> tuple[int, int] | None:
    """The first and last chain positions in (after, until] of entries made in [since, before)
    (through the (organization, created_at) index), or None when there are none."""
    query = AuditEntry.filter(organization_id=organization_id, position__gt=after, position__lte=until)
    query = query.filter(created_at__gte=since) if since is not None else query
    query = query.filter(created_at__lt=before) if before is not None else query
    bounds = await query.annotate(lo=Min("position"), hi=Max("position")).first().values("lo", "hi")
    if not bounds or bounds["lo"] is None:
        return None
    return int(bounds["lo"]), int(bounds["hi"])


async def sealed(
    organization_id: str, after: int, *, until: int | None = None, since: datetime | None = None,
    before: datetime | None = None, limit: int = BATCH,
) -> list[ChainEntry]:
    """One organization's sealed entries with positions in (after, until], oldest first, at most
    `limit`; `since`/`before` keep only those made in that time range."""
    until = until if until is not None else 2**62
    if is_postgres():
        return [_of_record(r) for r in await pg_fetch(_SEALED_PG, organization_id, after, until, since, before,
                                                       limit)]
    query = AuditEntry.filter(organization_id=organization_id, position__gt=after, position__lte=until)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if before is not None:
        query = query.filter(created_at__lt=before)
    return [of_model(r) for r in await query.order_by("position").limit(limit)]
