"""The four step types. Each takes the step's config with its templates already rendered and answers
an Outcome; none keeps a worker while it waits (a delay or an approval is a `Wait`).

Every call out carries the idempotency key `{executionId}:{step}`, the same on every retry and after
a takeover (a retried execution's names the run it retries: runner.idempotency_key): Stripe gets it
as `Idempotency-Key`, http_request and custom_api calls as an `Idempotency-Key` header
(connectors/running.py passes it on).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.clock import isoformat_z, parse_timestamp, utcnow
from models.connectors import Credential
from resolvers.connectors.failures import MESSAGE_LIMIT, ProviderFailure
from resolvers.connectors.kinds import ActionCall
from resolvers.connectors.providers import http as http_provider
from resolvers.connectors.redaction import scrub, scrub_then_cut
from resolvers.connectors.running import run_action
from resolvers.connectors.transport import hidden_of
from resolvers.context import Context
from resolvers.credentials.credentials import open_data
from resolvers.errors import Conflict, DomainError, Invalid, NotFound, QuotaExceeded, UpstreamFailed
from resolvers.governance import actions
from resolvers.governance.records import note_proposers_reason
from resolvers.workflows.outcomes import Done, Failed, Outcome, Wait

APPROVAL_RECHECK_SECONDS = 30.0  # a decision's wake-up can race the wait being stored: look again this often


def as_sent(step_type: str, config: Any) -> Any:
    """Header values travel as text: a header that is one template of a number is sent as its digits."""
    if step_type == "http_request" and isinstance(config, dict) and isinstance(config.get("headers"), dict):
        headers = {k: v if isinstance(v, str) or v is None or isinstance(v, dict | list) else _text(v)
                   for k, v in config["headers"].items()}
        return {**config, "headers": headers}
    return config


def _text(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


async def http_request(ctx: Context, config: dict[str, Any], key: str, call_timeout: float) -> Outcome:
    """The http connector's `request`, with the step's credential (provider `http`) if it names one."""
    secrets = await _http_secrets(ctx, config.get("credentialId"))
    given: dict[str, Any] = {"method": config.get("method", "GET"), "url": config["url"],
                             "headers": {"Idempotency-Key": key, **config.get("headers", {})},
                             "query": config.get("query", {})}
    if "body" in config:
        body = config["body"]
        given["text" if isinstance(body, str) else "json"] = body
    call = ActionCall(input=given, secrets=secrets, config={}, settings=ctx.settings, http=ctx.services.http,
                      idempotency_key=key, timeout=call_timeout)
    hidden = hidden_of(call)
    try:
        return Done(scrub(await http_provider.request(call), hidden))
    except ProviderFailure as failure:
        return Failed(scrub_then_cut(failure.message, hidden, MESSAGE_LIMIT), failure.retryable, failure.retry_after)
    except Invalid as refused:
        return Failed(str(scrub(refused.message, hidden)), retryable=False)


async def _http_secrets(ctx: Context, credential_id: str | None) -> dict[str, Any]:
    if credential_id is None:
        return {}
    credential = await Credential.get_or_none(id=str(credential_id), organization_id=ctx.organization_id)
    if credential is None:
        raise Invalid(f"config.credentialId: credential {credential_id} not found")
    return open_data(ctx, credential)


async def connector(ctx: Context, config: dict[str, Any], key: str, call_timeout: float) -> Outcome:
    """The same resolver as `POST /connectors/{id}/actions/{action}`: recorded, scrubbed, classed;
    the call is bounded by the step's timeout (as an http_request step's), not the connector default."""
    try:
        result = await run_action(ctx, config["connectorId"], config["action"], config.get("input", {}),
                                  idempotency_key=key, call_timeout=call_timeout)
    except UpstreamFailed as failure:
        return Failed(failure.message, failure.retryable, failure.retry_after)
    return Done(result.output)


async def approval(ctx: Context, config: dict[str, Any], key: str) -> Outcome:
    """Propose an action under governance; wait (holding no worker) until it is decided. Proposing
    again with the same key answers the same action, so a re-run reads its current decision."""
    proposal = {"type": config["type"], "actor": config.get("actor") or {"kind": "workflow"},
                "target": config.get("target"), "params": config.get("params") or {}}
    proposed = await actions.propose(ctx, proposal, idempotency_key=key)
    action = proposed.action
    if config.get("reason") and not proposed.replayed:  # shown to reviewers beside the params
        await note_proposers_reason(action.id, "workflowReason", config["reason"])
    if action.status == "pending_approval":
        return Wait(utcnow() + timedelta(seconds=APPROVAL_RECHECK_SECONDS), action_id=action.id)
    decision = {"actionId": action.id, "status": action.status, "decidedBy": action.decided_by,
                "reason": action.reason, "checks": action.checks}
    if action.status == "approved":
        return Done(decision)
    return Failed(f"action {action.id} was {action.status}" + (f": {action.reason}" if action.reason else ""),
                  retryable=False)


def delay(config: dict[str, Any], first_run: Any) -> Outcome:
    """Wait until `first_run + seconds` or `until`; done once that time has passed."""
    if "until" in config:
        try:
            until = parse_timestamp(str(config["until"]))
        except ValueError:
            return Failed(f"config.until: {config['until']!r} is not an ISO-8601 time within the years 1 to 9999 "
                          "in UTC", retryable=False)
    else:
        until = first_run + timedelta(seconds=float(config["seconds"]))
    if utcnow() >= until:
        return Done({"waitedUntil": isoformat_z(until)})
    return Wait(until)


async def guarded(outcome: Any) -> Outcome:
    """A step's domain refusals as permanent failures (quota and conflicts too): never a crash."""
    try:
        result: Outcome = await outcome
    except (Invalid, NotFound, Conflict, QuotaExceeded) as refused:
        return Failed(refused.message, retryable=False)
    except DomainError as refused:
        return Failed(refused.message, retryable=False)
    return result
