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

from tortoise.exceptions import IntegrityError

from app.core.after_commit import atomic
from app.core.ids import new_id
from models.connectors import Connector, ConnectorCall, Credential
from resolvers.connectors import schemas
from resolvers.connectors.catalogue import kind_of
from resolvers.connectors.connectors import find
from resolvers.connectors.failures import MESSAGE_LIMIT, ProviderFailure
from resolvers.connectors.kinds import Action as ConnectorAction
from resolvers.connectors.kinds import ActionCall
from resolvers.connectors.redaction import scrub, scrub_text, scrub_then_cut, secret_strings
from resolvers.context import Context
from resolvers.credentials.credentials import open_data
from resolvers.errors import Invalid, NotFound, UpstreamFailed
from resolvers.events.outbox import emit
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
    return Prepared(connector, action, call, secret_strings(secrets))


async def perform(ctx: Context, prepared: Prepared) -> ActionResult:
    """Send the prepared call and record it in the connector's call log; UpstreamFailed when the
    provider fails, Invalid when the provider refused the input before sending anything."""
    connector, action_name, hidden = prepared.connector, prepared.action.name, prepared.hidden
    started = time.perf_counter()
    try:
        output = await prepared.action.run(prepared.call)
    except ProviderFailure as failure:
        failure.message = scrub_then_cut(failure.message, hidden, MESSAGE_LIMIT)
        raise await _record_failure(ctx, connector, action_name, failure, _ms(started)) from None
    except Invalid as refused:  # the provider refused the input before sending: nothing to record
        raise Invalid(scrub_text(refused.message, hidden)) from None
    duration_ms = _ms(started)
    call_id = await _record(ctx, connector, action_name, duration_ms)
    return ActionResult(scrub(carried(output), hidden), duration_ms, call_id)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def _record(ctx: Context, connector: Connector, action: str, duration_ms: int) -> str:
    """The call's entry in its connector's log, and its id."""
    call_id = new_id("call")
    try:
        await ConnectorCall.create(id=call_id, organization_id=ctx.organization_id, connector_id=connector.id,
                                   action=action, status="succeeded", duration_ms=duration_ms, key_id=ctx.key_id)
    except IntegrityError as exc:
        _unless_connector_gone(exc, connector)
    return call_id


async def _record_failure(
    ctx: Context, connector: Connector, action: str, failure: ProviderFailure, duration_ms: int
) -> UpstreamFailed:
    """Record the failed call and emit `connector.call_failed` in one transaction (the event alone
    when the connector, and its log, were deleted while the call ran)."""
    call_id = new_id("call")
    data = {"callId": call_id, "connectorId": connector.id, "connectorType": connector.type, "action": action,
            "error": failure.message, "retryable": failure.retryable, "providerStatus": failure.status,
            "durationMs": duration_ms}
    try:
        async with atomic():
            await ConnectorCall.create(
                id=call_id, organization_id=ctx.organization_id, connector_id=connector.id, action=action,
                status="failed", duration_ms=duration_ms, retryable=failure.retryable,
                provider_status=failure.status, error=failure.message, key_id=ctx.key_id,
            )
            await emit(ctx.services, ctx.organization_id, "connector.call_failed", data)
    except IntegrityError as exc:
        _unless_connector_gone(exc, connector)
        async with atomic():
            await emit(ctx.services, ctx.organization_id, "connector.call_failed", data)
    return UpstreamFailed(
        f"{connector.type} {action} failed: {failure.message}", retryable=failure.retryable, call_id=call_id,
        provider_status=failure.status, retry_after=failure.retry_after,
    )


def _unless_connector_gone(exc: IntegrityError, connector: Connector) -> None:
    """Pass over a call log entry whose connector was deleted while the call ran (the log goes with
    its connector, as DELETE documents): the caller gets what the provider answered, which a 500
    hid, and a retry would have acted twice. Any other refusal is raised."""
    if "foreign key" not in str(exc).lower():
        raise exc
    _log.info("connector %s deleted while its call ran; the call is not logged", connector.id)
