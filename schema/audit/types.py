"""GraphQL types of the audit trail: an entry, and the answer of a chain verification."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from models.audit import AuditEntry as AuditEntryRow
from resolvers.audit.chain import exact_time
from resolvers.audit.verify import Verification
from schema.node import Node


@strawberry.type(description="One change an organization made or suffered, in its hash chain.")
class AuditEntry(Node):
    id: strawberry.ID = strawberry.field(description="The entry's id (`aud_...`).")
    organization_id: str = strawberry.field(description="Its organization: the hash covers it, as REST shows it.")
    type: str = strawberry.field(description="What happened, e.g. `policy.updated`.")
    resource_id: str | None = strawberry.field(description="The changed resource's id.")
    actor: str = strawberry.field(description="The API key's id, or `system:<job>` for a worker.")
    key_id: str | None = strawberry.field(description="The API key that made the change.")
    agent_id: str | None = strawberry.field(description="The agent that key is bound to.")
    changes: JSON = strawberry.field(description="`before` and `after` of the changed fields.")
    request_id: str | None = strawberry.field(description="The request that made the change.")
    client_address: str | None = strawberry.field(description="The caller's address.")
    created_at: datetime = strawberry.field(description="When it happened.")
    created_at_exact: str = strawberry.field(description="When, to the microsecond, as the hash covers it.")
    position: int | None = strawberry.field(description="Its place in the chain; null until sealed.")
    hash: str | None = strawberry.field(description="SHA-256 over the previous entry's hash and this entry.")

    @classmethod
    def from_row(cls, row: AuditEntryRow) -> AuditEntry:
        return cls(
            id=strawberry.ID(row.id), organization_id=row.organization_id, type=row.type,
            resource_id=row.resource_id, actor=row.actor,
            key_id=row.key_id, agent_id=row.agent_id, changes=cast(JSON, row.changes),
            request_id=row.request_id, client_address=row.client_address, created_at=row.created_at,
            created_at_exact=exact_time(row.created_at), position=row.position, hash=row.hash,
        )


@strawberry.type(description="The first entry that breaks the chain.")
class AuditMismatch:
    problem: str = strawberry.field(description="`hash` (changed or reordered) or `missing` (no entry there).")
    position: int = strawberry.field(description="The chain position where it breaks.")
    entry_id: str | None = strawberry.field(description="The entry found there, if any.")
    expected: str | None = strawberry.field(description="The hash recomputed.")
    stored: str | None = strawberry.field(description="The hash stored.")


@strawberry.type(description="A recomputation of the organization's audit hash chain.")
class AuditVerification:
    ok: bool = strawberry.field(description="True when every sealed entry checked matches.")
    checked: int = strawberry.field(description="Entries checked.")
    pending: int = strawberry.field(description="Entries not sealed yet (not checked).")
    first_position: int | None = strawberry.field(description="The first position checked.")
    last_position: int | None = strawberry.field(description="The last position that matched.")
    anchor_position: int = strawberry.field(description="The last position trimmed by retention (0: none).")
    head_position: int = strawberry.field(description="The chain's last sealed position.")
    mismatch: AuditMismatch | None = strawberry.field(description="The first break; null when ok.")

    @classmethod
    def of(cls, result: Verification) -> AuditVerification:
        m = result.mismatch
        return cls(
            ok=result.ok, checked=result.checked, pending=result.pending, first_position=result.first_position,
            last_position=result.last_position, anchor_position=result.anchor_position,
            head_position=result.head_position,
            mismatch=AuditMismatch(problem=m.problem, position=m.position, entry_id=m.entry_id, expected=m.expected,
                                   stored=m.stored) if m is not None else None,
        )
