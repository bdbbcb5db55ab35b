"""Running one connector action: the one path for `POST /connectors/{id}/actions/{action}`,
`runConnectorAction` (through resolvers/connectors/direct.py, which audits them), workflow steps
and policy notifications.

Input is checked against the action's `inputSchema` before anything is sent (400 naming the
field). Each run that reaches the provider is recorded with the key that ran it, if any (never its
input, output or secrets); a failure also emits `connector.call_failed` and answers
`CONNECTOR_FAILED` (502) saying whether a retry may help. Outputs and error messages are scrubbed
of every string of the credential's data.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from app.core.after_commit import atomic
from app.core.ids import new_id
from models.connectors import Connector, ConnectorCall, Credential
from resolvers.connectors import schemas
from resolvers.connectors.catalogue import kind_of
from resolvers.connectors.connectors import find
from resolvers.connectors.failures import MESSAGE_LIMIT, ProviderFailure
from resolvers.connectors.kinds import Action as ConnectorAction
from resolvers.connectors.kinds import ActionCall
from resolvers.connectors.redaction import scrub, scrub_text, scrub_then_cut
from resolvers.connectors.transport import hidden_of
from resolvers.context import Context
from resolvers.credentials.credentials import open_data
from resolvers.errors import Invalid, NotFound, UpstreamFailed
from resolvers.events.outbox import emit
from resolvers.lookup import held_for_reference
from resolvers.validation import carried, check_storable

MAX_IDEMPOTENCY_KEY = 255
_log = logging.getLogger("gatehouse.connectors")


@dataclass(slots=True)
class ActionResult:
    output: dict[str, Any]
    duration_ms: int
    call_id: str


def check_idempotency_key(key: str | None) -> str:
    """The caller's key (printable ASCII, at most 255), or a fresh one for this call alone."""
    if key is None:
        return uuid.uuid4().hex
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not all(" " < c <= "~" for c in key):
        raise Invalid(f"idempotencyKey must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters without spaces")
    return key


async def _secrets(ctx: Context, connector: Connector) -> dict[str, Any]:
    if connector.credential_id is None:
        return {}
    credential = await Credential.get(id=connector.credential_id, organization_id=ctx.organization_id)
    return open_data(ctx, credential)


@dataclass(slots=True)
class Prepared:
    """A call checked and ready to send: what `perform` sends, and what a caller that records it
    (resolvers/connectors/direct.py) may say of it without a secret (`hidden` scrubs those)."""

    connector: Connector
    action: ConnectorAction
    call: ActionCall
    hidden: list[str]


async def run_action(
    ctx: Context, connector_id: str, action_name: str, given: Any, *, idempotency_key: str | None = None,
    call_timeout: float | None = None,
) -> ActionResult:
    """Validate, call the provider, record the call; raises UpstreamFailed when the provider fails.
    `call_timeout` (seconds) is a workflow step's own `timeoutMs`; else the connector default applies."""
    prepared = await prepare(ctx, connector_id, action_name, given, idempotency_key=idempotency_key,
                             call_timeout=call_timeout)
    return await perform(ctx, prepared)


async def prepare(
    ctx: Context, connector_id: str, action_name: str, given: Any, *, idempotency_key: str | None = None,
    call_timeout: float | None = None,
) -> Prepared:
    """The connector, its action and the call, once the input fits the action's schema; nothing is sent."""
    connector = await find(ctx, connector_id, "connectors:write")
    actions = kind_of(connector.type).actions_of(connector.config)
    action = actions.get(action_name)
    if action is None:
        raise NotFound(f"connector {connector.id} ({connector.type}) has no action {action_name[:64]!r}; "
                       f"it has: {', '.join(actions) or 'none'}")
    check_storable(given, "input")  # NUL, nesting orjson cannot write: GraphQL's JSON literals get here unread
    schemas.check(action.input_schema, given, "input")
    key = check_idempotency_key(idempotency_key)
    secrets = await _secrets(ctx, connector)
    call = ActionCall(input=given, secrets=secrets, config=connector.config, settings=ctx.settings,
                      http=ctx.services.http, idempotency_key=key,
                      timeout=call_timeout or ctx.settings.connector_timeout_seconds)
    return Prepared(connector, action, call, hidden_of(call))


@dataclass(slots=True)
class Sent:
    """What the provider answered a call (its output, or its failure), both scrubbed, and its call id."""

    call_id: str
    duration_ms: int
    output: Any = None
    failure: ProviderFailure | None = None


async def perform(ctx: Context, prepared: Prepared) -> ActionResult:
    """Send the prepared call and record it in the connector's call log; UpstreamFailed when the
    provider fails, Invalid when the provider refused the input before sending anything."""
    sent = await send(prepared)
    await record(ctx, prepared, sent)
    return answer(prepared, sent)


async def send(prepared: Prepared) -> Sent:
    """The provider call alone, no database work (no transaction is held across it); Invalid when
    the provider refused the input before sending anything."""
    started = time.perf_counter()
    try:
        output = await prepared.action.run(prepared.call)
    except ProviderFailure as failure:
        failure.message = scrub_then_cut(failure.message, prepared.hidden, MESSAGE_LIMIT)
        return Sent(new_id("call"), _ms(started), failure=failure)
    except Invalid as refused:  # the provider refused the input before sending: nothing to record
        raise Invalid(scrub_text(refused.message, prepared.hidden)) from None
    return Sent(new_id("call"), _ms(started), output=scrub(carried(output), prepared.hidden))


def answer(prepared: Prepared, sent: Sent) -> ActionResult:
    """The call's result, or its UpstreamFailed raised."""
    if sent.failure is not None:
        raise failed(prepared, sent)
    return ActionResult(sent.output, sent.duration_ms, sent.call_id)


def failed(prepared: Prepared, sent: Sent) -> UpstreamFailed:
    failure = sent.failure
    assert failure is not None
    return UpstreamFailed(
        f"{prepared.connector.type} {prepared.action.name} failed: {failure.message}", retryable=failure.retryable,
        call_id=sent.call_id, provider_status=failure.status, retry_after=failure.retry_after,
    )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def record(ctx: Context, prepared: Prepared, sent: Sent) -> None:
    """The call's row in its connector's log and, for a failure, `connector.call_failed`, in one
    transaction: the caller's when it has one open (direct.py writes its audit entry in it), so
    all commit or none does. The connector is held (FOR KEY SHARE) so a delete racing the call
    waits for the row; one deleted while the call ran took its log with it, as DELETE documents:
    the row is left out and the caller still gets what the provider answered (a 500 would invite
    a retry that acts twice)."""
    connector, action = prepared.connector, prepared.action.name
    failure = sent.failure
    async with atomic() as conn:
        if connector.id in await held_for_reference(Connector, ctx, {connector.id}, conn):
            how = ({"status": "succeeded"} if failure is None else {"status": "failed", "retryable": failure.retryable,
                   "provider_status": failure.status, "error": failure.message})
            await ConnectorCall.create(id=sent.call_id, organization_id=ctx.organization_id, connector_id=connector.id,
                                       action=action, duration_ms=sent.duration_ms, key_id=ctx.key_id, **how,
                                       using_db=conn)
        else:
            _log.info("connector %s deleted while its call ran; the call is not logged", connector.id)
        if failure is not None:
            await emit(ctx.services, ctx.organization_id, "connector.call_failed", {
                "callId": sent.call_id, "connectorId": connector.id, "connectorType": connector.type,
                "action": action, "error": failure.message, "retryable": failure.retryable,
                "providerStatus": failure.status, "durationMs": sent.duration_ms})
