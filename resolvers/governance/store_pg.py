"""Storing a proposal on PostgreSQL in one statement: the hot path's database cost is its round trips.

Through the ORM a proposal is BEGIN, INSERT action, INSERT approval (when pending), INSERT history,
INSERT event, INSERT its relay queue entry and COMMIT: six or seven round trips, each with
Tortoise's model and query building around it. One data-modifying CTE writes the same rows in one
round trip, and a single statement is its own transaction: either every row is stored or none is.
Foreign keys are checked at the end of the statement, so the approval and history rows may point at
the action inserted beside them.
A reused idempotency key still fails on the unique constraint (Tortoise raises IntegrityError), so
the caller's replay logic is unchanged.

The rows are exactly the ORM path's (``actions._store_orm``): the action built in memory, its
approval, the ``proposed`` history entry and the ``action.<status>`` event with `records.event_data`,
its agent's counts move in the same statement (resolvers/agents/counters.py), and its audit entry
(resolvers/audit/trail.py) is one more row of the statement, unsealed: no chain lock on this path.
The relay is woken once the statement has returned, as `outbox.emit` does after commit. SQLite keeps
the ORM path (embedded mode), as does a proposal made inside a caller's `atomic()` block.

Under load, proposals arriving while others are being written share a transaction
(models/group_write.py: one commit for several proposals, each still failing alone).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.fields.data import JSON_DUMPS

from app.core.clock import utcnow
from app.core.ids import new_id
from models.db import connection_for_one_statement as connection_for_one_statement  # actions.py asks here
from models.governance import Action
from models.group_write import group_writer
from resolvers.agents.counters import proposal_cte
from resolvers.context import Services
from resolvers.events.outbox import schedule_wake
from resolvers.governance.records import approval_id_of, event_data

_ACTION_COLUMNS: Final = (
    "id", "organization_id", "type", "actor_kind", "actor_name", "actor_provider", "target", "params",
    "status", "policy_ids", "checks", "observed", "approval_mode", "expires_at", "decided_at", "decided_by",
    "reason", "client_ref", "client_timestamp", "agent_id", "idempotency_key", "request_hash", "created_at",
    "actor_verified", "metadata", "grant_consumed_at", "grant_consumed_by",
    "proposed_by", "review", "votes", "original_params", "escalated_at", "policy_set_id",
)
_JSON_COLUMNS: Final = frozenset({"params", "policy_ids", "checks", "observed", "metadata", "review", "votes",
                                  "original_params"})
_COLUMN_SET: Final = frozenset(_ACTION_COLUMNS)
_COLUMN_KINDS: Final = tuple((name, name in _JSON_COLUMNS) for name in _ACTION_COLUMNS)
_N = len(_ACTION_COLUMNS)  # the action takes $1..$N: $1 is its id, $2 its organization, $9 its status
_AGENT = f"${_ACTION_COLUMNS.index('agent_id') + 1}"

_STORE: Final = f"""
WITH a AS (
    INSERT INTO actions ({", ".join(_ACTION_COLUMNS)})
    VALUES ({", ".join(f"${i}" for i in range(1, _N + 1))})
    RETURNING id
), p AS (
    INSERT INTO approvals (id, organization_id, action_id, status, created_at)
    SELECT ${_N + 1}::varchar, $2::varchar, a.id, 'pending', ${_N + 2}::timestamptz
    FROM a WHERE ${_N + 1}::varchar IS NOT NULL
), h AS (
    INSERT INTO action_history (id, organization_id, action_id, kind, status, by, detail, created_at)
    SELECT ${_N + 3}::varchar, $2::varchar, a.id, 'proposed', $9::varchar, ${_N + 4}::varchar,
           ${_N + 5}::jsonb, ${_N + 6}::timestamptz
    FROM a
), e AS (
    INSERT INTO events (id, organization_id, type, data, created_at)
    SELECT ${_N + 7}::varchar, $2::varchar, ${_N + 8}::varchar, ${_N + 9}::jsonb, ${_N + 10}::timestamptz
    FROM a
    RETURNING seq
), q AS (
    INSERT INTO events_unrelayed (seq) SELECT seq FROM e
), c AS (
    {proposal_cte("$9", _AGENT, "$2", f"${_N + 2}")} AND EXISTS (SELECT 1 FROM a)
), au AS (
    INSERT INTO audit_entries (id, organization_id, type, resource_id, actor, key_id, agent_id, changes,
                               request_id, client_address, created_at)
    SELECT ${_N + 11}::varchar, $2::varchar, ${_N + 12}::varchar, a.id, ${_N + 13}::varchar, ${_N + 14}::varchar,
           ${_N + 15}::varchar, ${_N + 16}::jsonb, ${_N + 17}::varchar, ${_N + 18}::varchar, ${_N + 19}::timestamptz
    FROM a
)
SELECT seq FROM e
"""


async def store(
    conn: BaseDBAsyncClient, services: Services, fields: dict[str, Any], by: str | None, audit: list[Any]
) -> Action:
    """Write the action with these `fields`, its approval (when pending), history entry, event and
    audit entry (`audit`: `trail.row_values` of the proposal); then wake the relay. Returns the
    action as stored.

    The instance is built as Tortoise builds rows it reads (`_init_from_db`: no per-field
    validation, which the values built by the caller do not need; 10 us against 28 us for
    `Action(**fields)`), and the statement goes to asyncpg directly on a pooled connection:
    Tortoise's `execute_query` adds two coroutine layers, a debug log call and an upper-cased copy
    of the statement to decide fetch-or-execute (together ~5% of a proposal's CPU). Its exception
    translation is kept: a reused idempotency key is Tortoise's IntegrityError, as on the ORM path.
    The write goes through the statement's group writer: alone when the database is idle, together
    with the proposals that arrived meanwhile when it is busy."""
    if fields.keys() != _COLUMN_SET:  # a column missing: refuse rather than store a NULL silently
        raise RuntimeError("the proposal store was given an incomplete action row")
    action = as_stored(fields)
    values = _values(services, fields, action, by)
    entry_id, _organization, entry_type, _resource, *who = audit  # $2 and the new action's id stand for those two
    values += [entry_id, entry_type, *who]
    try:
        await group_writer(conn, _STORE).write(values)
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(exc) from exc
    schedule_wake(services)
    return action


def as_stored(fields: dict[str, Any]) -> Action:
    """The Action these column values make once stored, with the instance state Tortoise's
    `_init_from_db` gives a row it reads, but without its per-field conversions: the values built by
    the caller are already Python values, and the conversions were 5% of a proposal's CPU. The
    columns are the model's own, under the same names (tests/resolvers/test_store_pg_row.py)."""
    action = Action.__new__(Action)
    state = action.__dict__
    state.update(fields)
    state.update(_partial=False, _saved_in_db=True, _custom_generated_pk=_custom_generated_pk(),
                 _await_when_save={})
    return action


@cache
def _custom_generated_pk() -> bool:
    return Action._meta.db_pk_column not in Action._meta.generated_db_fields


def _values(services: Services, fields: dict[str, Any], action: Action, by: str | None) -> list[Any]:
    pending = action.status == "pending_approval"
    now = utcnow()
    row = [JSON_DUMPS(value) if json and (value := fields[name]) is not None else fields[name]
           for name, json in _COLUMN_KINDS]
    return [
        *row,
        approval_id_of(action) if pending else None, now,
        new_id("hist"), by, JSON_DUMPS({"policyIds": action.policy_ids}), now,
        new_id("evt"), f"action.{action.status}", JSON_DUMPS(event_data(services, action)), now,
    ]

