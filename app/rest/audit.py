"""REST: /api/v1/audit (scope audit:read): the trail as a filtered list, an NDJSON export of a time
range streamed in bounded memory, and verification of the hash chain. Nothing here changes an entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from resolvers.audit import reads, verify

TAGS = ["audit"]
_RANGE = "ISO-8601 timestamps; `from` is included, `to` is not"


class AuditListQuery(ListQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    type: str | None = Field(None, description="An entry type, e.g. `policy.updated`")
    resource: str | None = Field(None, description="The changed resource's id")
    key: str | None = Field(None, description="The API key that made the change")
    agent: str | None = Field(None, description="The agent its key is bound to")
    since: str | None = Field(None, alias="from", description=_RANGE)
    before: str | None = Field(None, alias="to", description=_RANGE)


class RangeQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    since: str | None = Field(None, alias="from", description=_RANGE)
    before: str | None = Field(None, alias="to", description=_RANGE)


class AuditEntryOut(BaseModel):
    id: str
    organizationId: str
    type: str
    resourceId: str | None
    actor: str = Field(description="The API key's id, or `system:<job>` for a worker")
    keyId: str | None
    agentId: str | None
    changes: dict[str, Any] = Field(description="`before` and `after` of the changed fields")
    requestId: str | None
    clientAddress: str | None
    createdAt: str
    position: int | None = Field(description="Its place in the organization's chain; null until sealed (about "
                                             "a second after the change)")
    hash: str | None = Field(description="SHA-256 hex over the previous entry's hash and this entry's canonical "
                                         "JSON (the other fields, keys sorted)")


class MismatchOut(BaseModel):
    problem: str = Field(description="`hash` (changed or reordered) or `missing` (no entry at this position)")
    position: int
    entryId: str | None = Field(description="The entry found at that position (null: none)")
    expected: str | None
    stored: str | None


class VerificationOut(BaseModel):
    organizationId: str
    ok: bool
    checked: int
    pending: int = Field(description="Entries not sealed yet, not checked")
    firstPosition: int | None
    lastPosition: int | None
    anchorPosition: int = Field(description="The last position trimmed by retention (0: none)")
    headPosition: int
    mismatch: MismatchOut | None


@endpoint("GET", "/audit", summary="List audit entries", tags=TAGS, query=AuditListQuery, scopes=("audit:read",),
          response=list[AuditEntryOut])
async def list_audit(call: RestCall) -> Response:
    q: AuditListQuery = call.query
    filters = reads.audit_filter(type=q.type, resource=q.resource, key=q.key, agent=q.agent, since=q.since,
                                 before=q.before)
    page = await reads.list_entries(call.ctx, filters, q.limit, q.cursor)
    return list_response(call.request, page.items, page.next_cursor, reads.wire)


@endpoint("GET", "/audit/export", summary="Export audit entries as NDJSON (sealed entries, chain order)",
          tags=TAGS, query=RangeQuery, scopes=("audit:read",))
async def export_audit(call: RestCall) -> Response:
    q: RangeQuery = call.query
    entries = reads.export_range(call.ctx, q.since, q.before)
    return StreamingResponse(_ndjson(entries), media_type="application/x-ndjson")


async def _ndjson(entries: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """One chunk per batch of lines: a write per entry costs more than the entry."""
    lines: list[bytes] = []
    async for entry in entries:
        lines.append(orjson.dumps(entry))
        if len(lines) >= 500:
            yield b"\n".join(lines) + b"\n"
            lines = []
    if lines:
        yield b"\n".join(lines) + b"\n"


@endpoint("POST", "/audit/verify", summary="Verify the audit hash chain", tags=TAGS, body=RangeQuery,
          scopes=("audit:read",), response=VerificationOut)
async def verify_audit(call: RestCall) -> dict[str, Any]:
    body: RangeQuery = call.body
    return (await verify.verify_for(call.ctx, body.since, body.before)).to_wire()
