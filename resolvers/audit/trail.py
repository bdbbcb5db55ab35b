"""`record`: the one way a change appends its audit entry, inside the change's own transaction.

Every resolver that changes something an organization owns calls `record` with the same
connection as the change, so the entry commits or rolls back with it. The entry carries who (the
API key, its bound agent, or `system:<job>` for the workers), what (a type of TYPES, the resource
id and a compact before/after of the changed fields, never a secret), when, the request id and the
client address. Its chain position and hash are given later by the sealer (resolvers/audit/sealer.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.clock import isoformat_z, utcnow
from app.core.ids import new_id
from models.audit import AuditEntry
from resolvers.context import Context

TYPES: Final = frozenset({
    "action.proposed", "action.approved", "action.rejected", "action.approval_recorded", "action.expired",
    "action.escalated", "action.cancelled", "action.evidence_added", "action.grant_consumed",
    "policy.created", "policy.updated", "policy.archived",
    "api_key.created", "api_key.revoked",
    "agent.registered", "agent.updated", "agent.disabled",
    "webhook.created", "webhook.updated", "webhook.deleted", "webhook.enabled", "webhook.disabled",
    "webhook.secret_rotated",
    "credential.created", "credential.updated", "credential.deleted", "credential.rekeyed",
    "connector.created", "connector.updated", "connector.deleted", "connector.action_run",
    "workflow.created", "workflow.updated", "workflow.deleted",
    "execution.started", "execution.cancelled", "execution.retried", "execution.completed", "execution.failed",
    "mcp_server.created", "mcp_server.updated", "mcp_server.deleted", "mcp_server.tools_admitted",
    "reviewer_group.created", "reviewer_group.updated", "reviewer_group.deleted",
})
SYSTEM: Final = "system"


@dataclass(slots=True, frozen=True)
class Actor:
    """Who made a change and from where: a caller's key (and its agent), or a worker."""

    organization_id: str
    actor: str
    key_id: str | None = None
    agent_id: str | None = None
    request_id: str | None = None
    client_address: str | None = None

    @classmethod
    def of(cls, ctx: Context) -> Actor:
        return cls(ctx.organization_id, ctx.key_id or SYSTEM, ctx.key_id, ctx.agent_id, ctx.request_id,
                   ctx.client_address)

    @classmethod
    def system(cls, organization_id: str, job: str) -> Actor:
        """A worker acting on its own (`job` is e.g. `expiry`: the entry's actor is `system:expiry`)."""
        return cls(organization_id, job if job.startswith("system:") else f"{SYSTEM}:{job}")


Who = Context | Actor


def plain(value: Any) -> Any:
    """JSON-plain values, as they will read back from the database; a datetime as the wire's
    timestamps are (`isoformat_z`: milliseconds, `Z`), not orjson's `+00:00` with microseconds, so an
    entry's `changes` give a time as the resource's own representation does."""
    return orjson.loads(orjson.dumps(value, default=_plain_scalar, option=orjson.OPT_PASSTHROUGH_DATETIME))


def _plain_scalar(value: Any) -> Any:
    return isoformat_z(value) if isinstance(value, datetime) else str(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that changed, each side holding only those: `{"before": {...}, "after": {...}}`."""
    b, a = plain(dict(before)), plain(dict(after))
    keys = [k for k in a if b.get(k) != a.get(k)] + [k for k in b if k not in a]
    return {"before": {k: b.get(k) for k in keys}, "after": {k: a.get(k) for k in keys}}


def created(after: Mapping[str, Any]) -> dict[str, Any]:
    return {"after": plain(dict(after))}


def deleted(before: Mapping[str, Any]) -> dict[str, Any]:
    return {"before": plain(dict(before))}


async def record(
    who: Who, type_: str, resource_id: str | None, changes: dict[str, Any] | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (`conn`); the sealer chains it after commit."""
    if type_ not in TYPES:
        raise ValueError(f"{type_} is not an audit entry type")
    actor = who if isinstance(who, Actor) else Actor.of(who)
    return await AuditEntry.create(
        id=new_id("aud"), organization_id=actor.organization_id, type=type_, resource_id=resource_id,
        actor=actor.actor, key_id=actor.key_id, agent_id=actor.agent_id, changes=changes or {},
        request_id=actor.request_id, client_address=actor.client_address, created_at=utcnow(), using_db=conn,
    )


def derived_id(key: str) -> str:
    """An entry id fixed by `key`: an entry written by a step that may run twice (a relay batch
    replayed after a crash) is inserted once, the second insert skipped on the unique id."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    text = ""
    while len(text) < 22:
        digest, index = divmod(digest, 62)
        text += _ALPHABET[index]
    return f"aud_{text}"


_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def row_values(who: Who, type_: str, resource_id: str | None, changes: dict[str, Any]) -> list[Any]:
    """An entry's columns in `COLUMNS` order (JSON as text) for a statement that inserts it itself
    (the proposal's one statement, resolvers/governance/store_pg.py)."""
    actor = who if isinstance(who, Actor) else Actor.of(who)
    return [new_id("aud"), actor.organization_id, type_, resource_id, actor.actor, actor.key_id, actor.agent_id,
            orjson.dumps(changes).decode(), actor.request_id, actor.client_address, utcnow()]


COLUMNS: Final = ("id", "organization_id", "type", "resource_id", "actor", "key_id", "agent_id", "changes",
                  "request_id", "client_address", "created_at")
