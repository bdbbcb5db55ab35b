"""Reading the trail: a filtered page of entries, and a streamed export of a time range.

Both are scoped to the caller's organization and need `audit:read` (admin keys have it). Nothing
here, or anywhere in the API, updates or deletes an entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.clock import in_utc, parse_timestamp
from models.audit import AuditEntry
from resolvers.access import require
from resolvers.audit import rows
from resolvers.audit.chain import ChainEntry, exact_time
from resolvers.audit.trail import TYPES
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.pagination import Page, paginate

SCOPE = "audit:read"
MAX_FILTER = 64
ID_COLUMN = 32  # key and agent ids: their columns hold 32 characters (a longer filter value failed the query)


@dataclass(slots=True, frozen=True)
class AuditFilter:
    type: str | None = None
    resource: str | None = None
    key: str | None = None
    agent: str | None = None
    since: datetime | None = None
    before: datetime | None = None


def _text(value: str | None, name: str, longest: int = MAX_FILTER) -> str | None:
    if value is not None and (not value or len(value) > longest or "\x00" in value):
        raise Invalid(f"{name}: must be a non-empty string of at most {longest} characters")
    return value


def _time(value: str | datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return in_utc(value) if isinstance(value, datetime) else parse_timestamp(value)
    except ValueError:
        raise Invalid(f"{name}: must be an ISO-8601 timestamp within the years 1 to 9999 in UTC") from None


def time_range(since: str | datetime | None, before: str | datetime | None) -> tuple[datetime | None, datetime | None]:
    """`from` and `to` parsed, `from` before `to` (400 otherwise)."""
    start, end = _time(since, "from"), _time(before, "to")
    if start is not None and end is not None and start >= end:
        raise Invalid("from: must be before to")
    return start, end


def audit_filter(
    *, type: str | None = None, resource: str | None = None, key: str | None = None, agent: str | None = None,
    since: str | datetime | None = None, before: str | datetime | None = None,
) -> AuditFilter:
    """The filters as given by either door, checked: an unknown type or a bad time is a 400."""
    if type is not None and type not in TYPES:
        raise Invalid(f"type: unknown audit entry type {type[:MAX_FILTER]!r}")
    start, end = time_range(since, before)
    return AuditFilter(type, _text(resource, "resource"), _text(key, "key", ID_COLUMN),
                       _text(agent, "agent", ID_COLUMN), start, end)


async def list_entries(ctx: Context, filters: AuditFilter, limit: int | None = None,
                       cursor: str | None = None) -> Page[AuditEntry]:
    """The caller's entries matching `filters`, newest first."""
    require(ctx, SCOPE)
    query = AuditEntry.filter(organization_id=ctx.organization_id)
    for column, value in (("type", filters.type), ("resource_id", filters.resource), ("key_id", filters.key),
                          ("agent_id", filters.agent)):
        if value is not None:
            query = query.filter(**{column: value})
    if filters.since is not None:
        query = query.filter(created_at__gte=filters.since)
    if filters.before is not None:
        query = query.filter(created_at__lt=filters.before)
    return await paginate(query, limit, cursor)


def wire(entry: AuditEntry | ChainEntry) -> dict[str, Any]:
    """An entry as both doors and the export show it: without `hash` and `position`-less it is not
    sealed yet; with them, the fields minus `hash` are exactly what the hash covers."""
    return {
        "id": entry.id, "organizationId": entry.organization_id, "type": entry.type,
        "resourceId": entry.resource_id, "actor": entry.actor, "keyId": entry.key_id, "agentId": entry.agent_id,
        "changes": entry.changes, "requestId": entry.request_id, "clientAddress": entry.client_address,
        "createdAt": exact_time(entry.created_at), "position": entry.position, "hash": entry.hash,
    }


def export_range(ctx: Context, since: str | datetime | None, before: str | datetime | None) -> AsyncIterator[
        dict[str, Any]]:
    """The caller's sealed entries made in [since, before), in chain order, read rows.BATCH at a time:
    the export's memory does not grow with the range. Checks access and input before streaming."""
    require(ctx, SCOPE)
    start, end = time_range(since, before)
    return _entries(ctx.organization_id, start, end)


async def _entries(organization_id: str, since: datetime | None, before: datetime | None) -> AsyncIterator[
        dict[str, Any]]:
    bounds = await rows.position_bounds(organization_id, 0, 2**62, since, before)
    if bounds is None:
        return
    after, until = bounds[0] - 1, bounds[1]  # a narrow range of a long chain reads only its own stretch
    while True:
        batch = await rows.sealed(organization_id, after, until=until, since=since, before=before)
        for entry in batch:
            yield wire(entry)
        if len(batch) < rows.BATCH:
            return
        after = batch[-1].position or after
