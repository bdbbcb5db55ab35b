"""The dispatcher's hot path on the database: lease due deliveries, record finished attempts.

On PostgreSQL each is ONE statement (no explicit transaction, no Tortoise model instances): the
lease takes due rows under FOR UPDATE SKIP LOCKED, sets `claimed_until` and returns them joined
with their webhook; the record moves every delivery of a batch to its next state and logs its
attempts from parameter arrays (`unnest`), so the statement text, and asyncpg's prepared
statement, is the same whatever the batch size. Measured with scripts/measure_dispatcher.py, the
ORM path spent five round trips per claim and four per record, about 40% of the worker's CPU.
SQLite (embedded mode, one process) keeps the ORM path: it has no row locks to skip and no
contention worth the second dialect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from asyncpg import Record
from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.after_commit import atomic
from app.core.clock import utcnow
from models.db import ASYNC_COMMIT, pg_fetch
from models.leases import lease_is_free
from models.webhooks import Webhook, WebhookDelivery
from resolvers.context import Services

DELIVERY_FIELDS = ("id", "organization_id", "webhook_id", "event_id", "event_type", "payload", "attempts")
TARGET_FIELDS = ("id", "organization_id", "name", "url", "headers", "max_attempts", "backoff_ms", "active",
                 "consecutive_failures", "secret", "previous_secret", "previous_secret_expires_at")


@dataclass(slots=True)
class Due:
    """A leased delivery: what is sent and how many attempts it had."""

    id: str
    organization_id: str
    webhook_id: str
    event_id: str
    event_type: str
    payload: str  # the body exactly as it is sent
    attempts: int


@dataclass(slots=True)
class Target:
    """The webhook a leased delivery goes to, as it was when the lease was taken."""

    id: str
    organization_id: str
    name: str
    url: str
    headers: dict[str, str]
    max_attempts: int | None
    backoff_ms: int | None
    active: bool
    consecutive_failures: int
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


@dataclass(slots=True)
class Lease:
    """A leased delivery and its webhook (None when the webhook was deleted meanwhile); `seen`, the
    dispatcher's note of webhook changes its webhook is as of (resolvers/webhooks/freshness.py);
    `send_by`, the dispatcher's monotonic time after which it no longer starts the send (the lease
    could end mid-send, and another lease send it again meanwhile)."""

    delivery: Due
    webhook: Target | None
    seen: int = 0
    send_by: float = math.inf


# A lease and a record of successes commit without waiting for the WAL flush (models.db.ASYNC_COMMIT):
# PostgreSQL crashing may lose the last few, and either loss is one the dispatcher already survives,
# a dispatcher dying mid-send: the lease, or the lease never given back, expires and the delivery
# is sent again with the same id (at least once, as documented). Measured in figure 6's burst, each
# flush waited for was 1-3 ms of a lease the senders waited on.
#
# models.leases' rule, run by a function (migration 0020) whose plan walks the due index in
# order and stops after $2 rows: planned in the statement, stale statistics made it read the backlog.
# Only the columns a send needs, and each webhook's columns once, on one of its rows (`nth`):
# decoding every delivery column and a webhook per row was about 1.5 us of the worker's CPU a row.
_LEASE = f"""
WITH leased AS (
    SELECT l.id, l.organization_id, l.webhook_id, l.event_id, l.event_type, l.payload, l.attempts, l.next_attempt_at,
           row_number() OVER (PARTITION BY l.webhook_id) AS nth
    FROM lease_webhook_deliveries($1, $2, $3) l
)
SELECT l.id, l.organization_id, l.webhook_id, l.event_id, l.event_type, l.payload, l.attempts,
       w.id AS w_id, w.organization_id AS w_organization_id, w.name AS w_name, w.url AS w_url,
       w.headers::text AS w_headers, w.max_attempts AS w_max_attempts, w.backoff_ms AS w_backoff_ms,
       w.active AS w_active, w.consecutive_failures AS w_consecutive_failures, w.secret AS w_secret,
       w.previous_secret AS w_previous_secret, w.previous_secret_expires_at AS w_previous_secret_expires_at
FROM leased l LEFT JOIN webhooks w ON w.id = l.webhook_id AND l.nth = 1
WHERE {ASYNC_COMMIT}
ORDER BY l.next_attempt_at"""

_RECORD = """
WITH r AS (
    SELECT * FROM unnest($1::varchar[], $2::int[], $3::varchar[], $4::timestamptz[], $5::int[],
                         $6::varchar[], $7::int[], $8::text[])
        AS r(id, number, status, next_attempt_at, status_code, error, duration_ms, excerpt)
    WHERE {durability}
), moved AS (
    UPDATE webhook_deliveries d
    SET status = r.status, attempts = r.number, claimed_until = NULL, last_status_code = r.status_code,
        last_error = r.error, next_attempt_at = r.next_attempt_at,
        delivered_at = CASE WHEN r.status = 'succeeded' THEN $9 ELSE d.delivered_at END
    FROM r WHERE d.id = r.id AND d.attempts = r.number - 1
    RETURNING d.id, d.webhook_id, r.status
), healed AS (
    UPDATE webhooks w SET consecutive_failures = 0
    WHERE w.consecutive_failures > 0 AND w.id IN (SELECT webhook_id FROM moved WHERE status = 'succeeded')
)
INSERT INTO webhook_delivery_attempts
    (delivery_id, number, attempted_at, status_code, duration_ms, error, response_excerpt)
SELECT r.id, r.number, $9, r.status_code, r.duration_ms, r.error, r.excerpt FROM r JOIN moved ON moved.id = r.id
RETURNING delivery_id
"""
_RECORD_DURABLE, _RECORD_SUCCESSES = _RECORD.format(durability="true"), _RECORD.format(durability=ASYNC_COMMIT)


async def lease_due(services: Services, limit: int) -> list[Lease]:
    """Lease up to `limit` due deliveries to this dispatcher, oldest due first."""
    now = utcnow()
    until = now + timedelta(seconds=services.settings.webhook_claim_seconds)
    if services.settings.is_sqlite:
        return await _lease_with_orm(now, until, limit)
    return leases_of(await lease_rows(now, limit, until))


async def lease_rows(now: datetime, limit: int, until: datetime, conn: BaseDBAsyncClient | None = None) -> list[Record]:
    """PostgreSQL: lease up to `limit` deliveries due at `now` until `until`, in one statement (on
    `conn`, a transaction's connection, or a pooled one). One row of each webhook carries its
    columns (`w_*`); the webhook's other rows, and rows whose webhook is gone, carry none."""
    return await pg_fetch(_LEASE, now, limit, until, conn=conn)


def leases_of(rows: list[Record]) -> list[Lease]:
    """The leases of `lease_rows`' rows, in their order, each with its webhook's Target (one per
    webhook, from the row that carries its columns; None when the webhook is gone)."""
    targets = {row["w_id"]: _target_of(row) for row in rows if row["w_id"] is not None}
    return [_lease_of(row, targets) for row in rows]


def _target_of(row: Record) -> Target:
    values = {name: row[f"w_{name}"] for name in TARGET_FIELDS}
    values["headers"] = orjson.loads(values["headers"])
    return Target(**values)


def _lease_of(row: Record, targets: dict[str, Target]) -> Lease:
    due = Due(row["id"], row["organization_id"], row["webhook_id"], row["event_id"], row["event_type"],
              row["payload"], row["attempts"])
    return Lease(due, targets.get(row["webhook_id"]))


async def _lease_with_orm(now: datetime, until: datetime, limit: int) -> list[Lease]:
    async with atomic():
        rows = await (
            WebhookDelivery.filter(status="pending", next_attempt_at__lte=now)
            .filter(lease_is_free(now))
            .order_by("next_attempt_at")
            .limit(limit)
            .values(*DELIVERY_FIELDS)
        )
        if rows:
            await WebhookDelivery.filter(id__in=[r["id"] for r in rows]).update(claimed_until=until)
    if not rows:
        return []
    hooks = await Webhook.filter(id__in={r["webhook_id"] for r in rows}).values(*TARGET_FIELDS)
    targets = {h["id"]: Target(**h) for h in hooks}
    return [Lease(Due(**row), targets.get(row["webhook_id"])) for row in rows]


async def load_target(webhook_id: str) -> Target | None:
    """The webhook as it is now (None once deleted), for a lease whose copy is stale."""
    found = await Webhook.filter(id=webhook_id).values(*TARGET_FIELDS)
    return Target(**found[0]) if found else None


@dataclass(slots=True)
class Moved:
    """One attempt's row and the state its delivery moves to."""

    delivery_id: str
    number: int
    status: str
    next_attempt_at: datetime | None
    status_code: int | None
    error: str | None
    duration_ms: int
    excerpt: str | None


async def record_moves(moves: list[Moved], now: datetime, *, flushed: bool = True) -> set[str]:
    """PostgreSQL: move every delivery and log its attempt in one statement; returns the ids of
    the deliveries moved. A delivery deleted meanwhile (its webhook was deleted) is skipped, not an
    error. So is a stale result: each move applies only if the delivery still has the attempt count
    its lease saw, so a dispatcher whose lease expired while it sent (and another sent again)
    cannot write its older state over the newer one, nor log a second attempt under the same
    number. A recorded success ends its webhook's run of failures (`consecutive_failures`, counted
    by resolvers/webhooks/health.py), whatever the run was when the delivery was leased.
    `flushed=False` (successes alone, nothing else in the transaction) commits without waiting for
    the WAL flush: see ASYNC_COMMIT above."""
    columns: list[list[Any]] = [[], [], [], [], [], [], [], []]
    for move in moves:
        for column, value in zip(columns, _fields_of(move), strict=True):
            column.append(value)
    statement = _RECORD_DURABLE if flushed else _RECORD_SUCCESSES
    return {row[0] for row in await pg_fetch(statement, *columns, now)}


def _fields_of(move: Moved) -> tuple[Any, ...]:
    return (move.delivery_id, move.number, move.status, move.next_attempt_at, move.status_code, move.error,
            move.duration_ms, move.excerpt)
