"""A connector action run directly by a caller (`POST /connectors/{id}/actions/{action}`,
`runConnectorAction`), with its `connector.action_run` audit entry.

Such a call acts in the outside world with the organization's stored credentials (a Slack message,
a Stripe charge, an email), so the tamper-evident trail says who ran which action of which
connector, when, and what came of it: the call log says so too, but it goes with its connector.
The entry is written whether the call succeeded or failed (a failed call may still have acted),
not when nothing was sent (bad input, an unknown action, a refused scope). It does not keep the
input, as the call log does not: an input may carry personal data or a secret the caller typed (an
`http` connector's headers), and the trail is kept, unchangeable, for the retention period. Workflow steps and
policy notifications run the same path (resolvers/connectors/running.py) without an entry each:
their executions and notifications are recorded where they are started and finished.

Each request that reaches the provider is one entry, an idempotency key given again included:
Gatehouse keeps no answers to replay, so every such request is sent again with the credentials,
and whether it acts again is the provider's to decide (Stripe replays its answer; Slack has no key
and posts again). The entry names the key sent, so the repeats of one call read as such.

The entry and the call log row are written in one transaction once the provider has answered (none
is held open across the call): both or neither. If that write fails, the caller still gets what the
provider answered, not a 500 (see `_recorded`).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.after_commit import atomic
from resolvers.audit import trail
from resolvers.connectors.redaction import scrub_text
from resolvers.connectors.running import ActionResult, Prepared, Sent, answer, failed, prepare, record, send
from resolvers.context import Context
from resolvers.errors import DomainError, Invalid, UpstreamFailed

KIND: Final = "connector.action_run"
ERROR_LIMIT: Final = 500  # characters of a provider's error an entry keeps, as an execution's does
_log = logging.getLogger("gatehouse.connectors")


async def run_direct(
    ctx: Context, connector_id: str, action_name: str, given: Any, *, idempotency_key: str | None = None
) -> ActionResult:
    """Run the action (running.run_action's checks), then write its call log row and its audit
    entry in one transaction, once the provider has answered."""
    prepared = await prepare(ctx, connector_id, action_name, given, idempotency_key=idempotency_key)
    try:
        sent = await send(prepared)
    except Invalid:  # the provider refused the input before sending anything: nothing to audit
        raise
    except Exception as exc:  # perhaps sent, but no answer read: the entry alone (there is no call log row)
        await _audit(ctx, prepared, _failed(exc))
        raise
    outcome = _failed(failed(prepared, sent)) if sent.failure else {"callId": sent.call_id, "status": "succeeded"}
    await _recorded(ctx, prepared, sent, outcome)
    return answer(prepared, sent)


async def _recorded(ctx: Context, prepared: Prepared, sent: Sent, outcome: dict[str, Any]) -> None:
    """The call log row (with `connector.call_failed` for a failure) and the entry: both or neither.
    When the database refuses them, the provider has acted all the same: the caller gets what it
    answered (a 5xx would invite a retry that acts twice: Slack posts again), and the error log
    keeps what the entry would have said, for an operator to see what the trail is missing."""
    try:
        async with atomic() as conn:
            await record(ctx, prepared, sent)
            await _audit(ctx, prepared, outcome, conn)
    except Exception:
        _log.exception("connector %s: call %s of %s by %s (request %s) ran at the provider but neither its call "
                       "log row nor its audit entry was written; the entry would have said %s",
                       prepared.connector.id, sent.call_id, prepared.action.name, ctx.key_id, ctx.request_id,
                       _after(prepared, outcome))


def _failed(exc: Exception) -> dict[str, Any]:
    """What came of a call that raised: CONNECTOR_FAILED with its call, or the code it was answered."""
    if isinstance(exc, UpstreamFailed):
        return {"callId": exc.details.get("callId"), "status": "failed", "errorCode": exc.code,
                "retryable": exc.retryable, "providerStatus": exc.details.get("providerStatus"),
                "error": exc.message[:ERROR_LIMIT]}  # scrubbed by send
    code = exc.code if isinstance(exc, DomainError) else DomainError.code
    return {"callId": None, "status": "failed", "errorCode": code, "retryable": False}


def _after(prepared: Prepared, outcome: dict[str, Any]) -> dict[str, Any]:
    return {"action": prepared.action.name, **outcome,
            "idempotencyKey": scrub_text(prepared.call.idempotency_key, prepared.hidden)}


async def _audit(
    ctx: Context, prepared: Prepared, outcome: dict[str, Any], conn: BaseDBAsyncClient | None = None
) -> None:
    """The call's entry, in `conn`'s transaction (its call log row's) when given. The entry is kept
    when the connector, and that row, are deleted."""
    await trail.record(ctx, KIND, prepared.connector.id, trail.created(_after(prepared, outcome)), conn)
