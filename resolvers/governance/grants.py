"""Single-use grants: proof that what an executor runs is exactly what was approved.

An approved action carries a grant bound to SHA-256 of its organization, type, target and
effective params as canonical JSON (keys sorted, no spaces). The executor consumes it with the
params it is about to use: the first consume with the same params succeeds, every later one, or
one with other params, is a 409. Consuming is one conditional UPDATE (`grant_consumed_at IS NULL`
and still approved), so of any number of concurrent consumes exactly one wins, on PostgreSQL and
SQLite alike. Nothing is stored at approval: the hash is a function of the action's columns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from app.core.after_commit import atomic
from app.core.clock import isoformat_z, utcnow
from models.governance import Action
from resolvers.access import require
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid
from resolvers.events.outbox import emit
from resolvers.governance.outcome import effective_params
from resolvers.governance.records import decider, event_data, history_row
from resolvers.lookup import owned
from resolvers.validation import unstorable


def grant_hash(organization_id: str, action_type: str, target: str | None, params: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of what a grant covers."""
    body = {"organizationId": organization_id, "type": action_type, "target": target, "params": params}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def hash_of(action: Action) -> str:
    return grant_hash(action.organization_id, action.type, action.target, effective_params(action))


@dataclass(frozen=True, slots=True)
class GrantState:
    """A grant as both doors show it: `none` (not approved), `active` (usable once) or `consumed`."""

    status: str
    hash: str | None
    consumed_at: datetime | None
    consumed_by: str | None

    def to_wire(self) -> dict[str, Any]:
        return {"status": self.status, "hash": self.hash, "consumedAt": isoformat_z(self.consumed_at),
                "consumedBy": self.consumed_by}


def grant_of(action: Action) -> GrantState:
    if action.grant_consumed_at is not None:
        return GrantState("consumed", hash_of(action), action.grant_consumed_at, action.grant_consumed_by)
    if action.status == "approved":
        return GrantState("active", hash_of(action), None, None)
    return GrantState("none", None, None, None)


def _given_params(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) - {"params"}:
        raise Invalid("body: must be an object with only `params`")
    params = data.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise Invalid("params: must be an object")
    if problem := unstorable(params):
        raise Invalid(f"params: {problem}")
    return params


async def consume(ctx: Context, action_id: str, data: Any) -> Action:
    """Use the action's grant once with `params`: 409 when not approved, already used, or the
    params differ from the approved ones (nothing changes then)."""
    require(ctx, "actions:write")
    params = _given_params(data)
    action = await owned(Action, ctx, action_id, "action")
    _check_usable(action, params)
    now = utcnow()
    async with atomic() as conn:
        won = await Action.filter(
            id=action.id, organization_id=ctx.organization_id, status="approved", grant_consumed_at__isnull=True
        ).using_db(conn).update(grant_consumed_at=now, grant_consumed_by=decider(ctx))
        if won != 1:
            raise Conflict(f"the grant of action {action.id} was already used")
        action.grant_consumed_at, action.grant_consumed_by = now, decider(ctx)
        await history_row(action, "grant_consumed", decider(ctx), {"hash": hash_of(action)}).save(using_db=conn)
        changes = {"before": {"grantConsumedAt": None}, "after": {"grantConsumedAt": isoformat_z(now)}}
        await trail.record(ctx, "action.grant_consumed", action.id, changes, conn)
        data_out = {**event_data(ctx.services, action), "grant": grant_of(action).to_wire()}
        await emit(ctx.services, action.organization_id, "action.grant_consumed", data_out)
    return action


def _check_usable(action: Action, params: dict[str, Any]) -> None:
    if action.status != "approved":
        raise Conflict(f"action {action.id} is {action.status}, not approved: it carries no grant")
    if action.grant_consumed_at is not None:
        raise Conflict(f"the grant of action {action.id} was already used at {isoformat_z(action.grant_consumed_at)}")
    if grant_hash(action.organization_id, action.type, action.target, params) != hash_of(action):
        raise Conflict(f"params differ from those action {action.id} was approved with; the grant is not used")
