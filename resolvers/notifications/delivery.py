"""Sending notifications: lease due rows, run the connector action, record the outcome.

The same lease pattern as webhook deliveries (resolvers/webhooks/leases.py): due rows are leased
with `claimed_until` under FOR UPDATE SKIP LOCKED on PostgreSQL, so two workers never send the
same attempt, and a worker that dies leaves its lease to lapse. Each send goes through
`resolvers.connectors.running.run_action`, so every attempt that reaches the provider is in the
connector's call log (failures also emit connector.call_failed). A retryable failure is tried
again with doubling backoff; a permanent one, or the last attempt, marks the notice failed.

An exception no code path meant to raise is logged; when it is of a kind that the same input raises
again every time (a ValueError, a TypeError, a KeyError, ...), retrying cannot help, so the notice
is failed at once instead of logging the same traceback on every attempt. Anything else (a lost
database connection, say) is retried like a provider that is down.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import orjson
from tortoise.expressions import Q

from app.core.after_commit import atomic
from app.core.clock import utcnow
from models.db import pg_fetch
from models.notifications import Notification
from resolvers.connectors.running import run_action
from resolvers.context import Services
from resolvers.errors import DomainError, UpstreamFailed
from resolvers.workflows.runner import system_context

MAX_ATTEMPTS: Final = 12
FIRST_DELAY_SECONDS: Final = 1.0
MAX_DELAY_SECONDS: Final = 600.0
LEASE_SECONDS: Final = 120.0
# Raised again by every attempt with the same input: a bug or unreadable data, never a passing outage.
DETERMINISTIC: Final = (ValueError, TypeError, LookupError, AttributeError, ArithmeticError, AssertionError)
_log = logging.getLogger("gatehouse.notifications")

_LEASE_PG: Final = """
UPDATE notifications SET claimed_until = $2
WHERE id IN (
    SELECT id FROM notifications
    WHERE status = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
    ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
)
RETURNING id, organization_id, connector_id, connector_action, input::text AS input, attempts
"""


@dataclass(slots=True)
class Due:
    """A leased notification: what to send, through which connector, after how many attempts."""

    id: str
    organization_id: str
    connector_id: str
    connector_action: str
    input: dict[str, object]
    attempts: int


def retry_delay(attempts_made: int) -> float:
    """1 s doubling per failed attempt, at most 10 minutes, +-20% jitter."""
    base = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (attempts_made - 1))
    return base * random.uniform(0.8, 1.2)


async def lease_due(services: Services, limit: int) -> list[Due]:
    now = utcnow()
    until = now + timedelta(seconds=LEASE_SECONDS)
    if services.settings.is_sqlite:
        return await _lease_with_orm(now, until, limit)
    rows = await pg_fetch(_LEASE_PG, now, until, limit)
    return [Due(r["id"], r["organization_id"], r["connector_id"], r["connector_action"], orjson.loads(r["input"]),
                r["attempts"]) for r in rows]


async def _lease_with_orm(now: datetime, until: datetime, limit: int) -> list[Due]:
    """SQLite: one process, serialised writes; read and lease in one transaction."""
    async with atomic():
        rows = await (
            Notification.filter(status="pending", next_attempt_at__lte=now)
            .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at").limit(limit)
            .values("id", "organization_id", "connector_id", "connector_action", "input", "attempts")
        )
        if rows:
            await Notification.filter(id__in=[r["id"] for r in rows]).update(claimed_until=until)
    return [Due(**row) for row in rows]


async def send(services: Services, due: Due) -> None:
    """One attempt, then its outcome recorded (only if no other worker recorded this attempt)."""
    number = due.attempts + 1
    try:
        ctx = await system_context(services, due.organization_id, due.id)
        result = await run_action(ctx, due.connector_id, due.connector_action, due.input, idempotency_key=due.id)
    except UpstreamFailed as failure:
        retry = failure.retryable and number < MAX_ATTEMPTS
        await _record(due, number, "pending" if retry else "failed", failure.message, failure.details.get("callId"))
        return
    except DomainError as refused:  # the connector was deleted, or the input no longer fits it
        await _record(due, number, "failed", refused.message, None)
        return
    except Exception as exc:
        _log.exception("notification %s failed unexpectedly", due.id)
        again = not isinstance(exc, DETERMINISTIC)
        retry = again and number < MAX_ATTEMPTS
        error = type(exc).__name__ if again else f"internal error ({type(exc).__name__}); not retried"
        await _record(due, number, "pending" if retry else "failed", error, None)
        return
    await _record(due, number, "sent", None, result.call_id)


async def _record(due: Due, number: int, status: str, error: str | None, call_id: object) -> None:
    now = utcnow()
    next_at = now + timedelta(seconds=retry_delay(number)) if status == "pending" else now
    await Notification.filter(id=due.id, attempts=number - 1).update(
        status=status, attempts=number, claimed_until=None, next_attempt_at=next_at,
        last_error=error[:2000] if error else None, last_call_id=str(call_id) if call_id else None,
        sent_at=now if status == "sent" else None,
    )
