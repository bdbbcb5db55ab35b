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
"""

from __future__ import annotations

from typing import Any, Final

from resolvers.audit import trail
from resolvers.connectors.redaction import scrub_text
from resolvers.connectors.running import ActionResult, Prepared, perform, prepare
from resolvers.context import Context
from resolvers.errors import DomainError, Invalid, UpstreamFailed

KIND: Final = "connector.action_run"
ERROR_LIMIT: Final = 500  # characters of a provider's error an entry keeps, as an execution's does


async def run_direct(
    ctx: Context, connector_id: str, action_name: str, given: Any, *, idempotency_key: str | None = None
) -> ActionResult:
    """Run the action (running.run_action's checks and call log), then append its audit entry."""
    prepared = await prepare(ctx, connector_id, action_name, given, idempotency_key=idempotency_key)
    try:
        result = await perform(ctx, prepared)
    except Invalid:  # the provider refused the input before sending anything: nothing to audit
        raise
    except Exception as exc:  # sent, or perhaps sent: the provider failed, or something after it did
        await _audit(ctx, prepared, _failed(exc))
        raise
    await _audit(ctx, prepared, {"callId": result.call_id, "status": "succeeded"})
    return result


def _failed(exc: Exception) -> dict[str, Any]:
    """What came of a call that raised: CONNECTOR_FAILED with its call, or the code it was answered."""
    if isinstance(exc, UpstreamFailed):
        return {"callId": exc.details.get("callId"), "status": "failed", "errorCode": exc.code,
                "retryable": exc.retryable, "providerStatus": exc.details.get("providerStatus"),
                "error": exc.message[:ERROR_LIMIT]}  # scrubbed by perform
    code = exc.code if isinstance(exc, DomainError) else DomainError.code
    return {"callId": None, "status": "failed", "errorCode": code, "retryable": False}


async def _audit(ctx: Context, prepared: Prepared, outcome: dict[str, Any]) -> None:
    """The call's entry, one insert of its own after the call log's: that row may be gone with its
    connector (deleted while the call ran), the entry is kept."""
    hidden = prepared.hidden
    after = {"action": prepared.action.name, **outcome,
             "idempotencyKey": scrub_text(prepared.call.idempotency_key, hidden)}
    await trail.record(ctx, KIND, prepared.connector.id, trail.created(after))

