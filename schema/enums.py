"""The closed sets of the API as GraphQL enums, for frontends and their code generators.

Every enum value is named exactly as the wire shows it today (`pending_approval`, `enforce`), so a
field that turns from String into an enum serialises to the same string: GraphQL sends an enum
value's name, and REST and GraphQL stay equal. The Python value is the wire string too, so a row's
column converts with `ActionStatus(row.status)`.

Scope is the exception: `actions:write` is not a GraphQL name, so its values are spelled with `_`
(`actions_write`, `all_read` for `*:read`) and the Python value keeps the wire string. API keys'
`scopes` fields stay lists of the wire strings; `knownScopes` pairs both spellings.

Filter arguments (`actions(status:)`, ...) and input fields (`CreatePolicyInput.mode`, ...) stay
String: clients write them as string literals today, which an enum argument would refuse.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry
from strawberry import enum_value as value

E = TypeVar("E", bound=Enum)


def by_value(enum: type[E]) -> dict[str, E]:
    """Members by their wire string: a dict lookup, for conversions on hot paths (proposeAction)."""
    return {str(member.value): member for member in enum}


def member_or_none(enum: type[E], raw: object) -> E | None:
    """The member whose value is `raw`, or None: for event snapshots, whose data may be partial."""
    try:
        return enum(raw)
    except ValueError:
        return None


@strawberry.enum(description="Where an action stands: the decision on it.")
class ActionStatus(Enum):
    pending_approval = value("pending_approval", description="Waits for evidence or a human decision.")
    approved = value("approved", description="Allowed: by no matching rule, by its checks or by a human.")
    rejected = value("rejected", description="Refused: by a deny rule, a failed required check or a human.")
    expired = value("expired", description="Not decided within its expiry time.")
    cancelled = value("cancelled", description="Withdrawn by its proposer while it was pending.")


@strawberry.enum(description="The state of the human decision a pending action waits for.")
class ApprovalStatus(Enum):
    pending = value("pending", description="Awaits a decision.")
    approved = value("approved", description="The action was approved.")
    rejected = value("rejected", description="The action was rejected.")
    expired = value("expired", description="The action expired before anyone decided.")
    cancelled = value("cancelled", description="The proposer withdrew the action.")


@strawberry.enum(description="Who gives the final approval once the required checks have passed.")
class ApprovalMode(Enum):
    manual = value("manual", description="A human approves or rejects.")
    auto = value("auto", description="Approved as soon as every required check has passed.")


@strawberry.enum(description="The state of one check on an action.")
class CheckStatus(Enum):
    pending = value("pending", description="No evidence yet.")
    passed = value("passed", description="Evidence says it passed.")
    failed = value("failed", description="Evidence says it failed.")
    observed = value("observed", description="What an observe-mode policy would have required; never blocks.")


@strawberry.enum(description="How a policy (or one of its rules) applies.")
class PolicyMode(Enum):
    enforce = value("enforce", description="Its rules decide actions.")
    observe = value("observe", description="Its rules are recorded, never block: the action is approved.")


@strawberry.enum(description="Whether a policy is evaluated.")
class PolicyStatus(Enum):
    active = value("active", description="Evaluated for every proposed action.")
    archived = value("archived", description="Kept and readable, no longer evaluated.")


@strawberry.enum(description="What happened to an action, as its audit trail records it.")
class HistoryKind(Enum):
    proposed = value("proposed", description="The action was proposed and decided by the policies.")
    evidence_added = value("evidence_added", description="Evidence checks were submitted.")
    approved = value("approved", description="A human approved it (or its deadline did, onExpire: approve).")
    rejected = value("rejected", description="A human rejected it (or its deadline did, onExpire: reject).")
    expired = value("expired", description="It expired undecided.")
    grant_consumed = value("grant_consumed", description="Its single-use grant was used by an executor.")
    granted = value("granted", description="Approved at once by an earlier approval's `grantFor` window.")
    grant_used = value("grant_used", description="Its `grantFor` window approved a later action (in `detail`).")
    approval_recorded = value("approval_recorded", description="One key's approval counted; more are needed.")
    escalated = value("escalated", description="Its deadline re-opened it to the escalateTo group.")
    cancelled = value("cancelled", description="Its proposer withdrew it.")
    approvers_changed = value(
        "approvers_changed", description="A revoked key left the keys that may decide it (who is left in `detail`)."
    )


@strawberry.enum(description="Where an agent stands; `disabled` is the kill switch: its proposals are rejected.")
class AgentStatus(Enum):
    active = value("active", description="Proposing.")
    idle = value("idle", description="Registered, not currently working (proposals are still decided).")
    error = value("error", description="Reported failing (proposals are still decided).")
    disabled = value("disabled", description="Stopped: its proposals are rejected at once, its pending ones were.")


@strawberry.enum(description="How a change affects the set of pending approvals.")
class PendingChange(Enum):
    created = value("created", description="An action started waiting: add it.")
    approved = value("approved", description="It was approved: remove it.")
    rejected = value("rejected", description="It was rejected: remove it.")
    expired = value("expired", description="It expired: remove it.")
    cancelled = value("cancelled", description="Its proposer withdrew it: remove it.")


@strawberry.enum(description="The state of one webhook delivery.")
class DeliveryStatus(Enum):
    pending = value("pending", description="Queued or waiting for its next attempt.")
    succeeded = value("succeeded", description="The receiver answered 2xx.")
    failed = value("failed", description="Every attempt failed (or the webhook is disabled); none is scheduled.")
    dead = value("dead", description="Failed for good: the receiver answered 410 or the URL was refused.")


@strawberry.enum(description="The state of a workflow execution.")
class ExecutionStatus(Enum):
    pending = value("pending", description="Queued; no worker has started it yet.")
    running = value("running", description="A worker is running its steps.")
    waiting = value("waiting", description="Parked until a delay ends or an approval is decided.")
    completed = value("completed", description="Every step finished.")
    failed = value("failed", description="A step failed; `error` says why.")
    cancelled = value("cancelled", description="Cancelled on request.")


@strawberry.enum(description="The state of one step of an execution.")
class StepStatus(Enum):
    pending = value("pending", description="Not started, or due again for a retry.")
    running = value("running", description="Running now.")
    waiting = value("waiting", description="Waits for a delay or an approval.")
    completed = value("completed", description="Finished with its output.")
    failed = value("failed", description="Failed; `error` says why.")
    skipped = value("skipped", description="Not run.")
    cancelled = value("cancelled", description="Stopped by a cancellation.")


@strawberry.enum(description="What a workflow step does.")
class StepType(Enum):
    approval = value("approval", description="Proposes an action and waits for its decision.")
    connector = value("connector", description="Runs an action of a connector instance.")
    delay = value("delay", description="Waits for a number of seconds or until a time.")
    http_request = value("http_request", description="Calls a URL.")


@strawberry.enum(description="How one connector call ended.")
class ConnectorCallStatus(Enum):
    succeeded = value("succeeded", description="The provider did what was asked.")
    failed = value("failed", description="The provider refused, failed or could not be reached.")


@strawberry.enum(description="The kind of secret a credential holds.")
class CredentialType(Enum):
    oauth = value("oauth", description="An OAuth token (Slack).")
    api_key = value("api_key", description="A provider API key (Stripe).")
    token = value("token", description="A bot or bearer token (Discord).")
    basic = value("basic", description="A user name and password.")
    custom = value("custom", description="Fields the connector defines (SMTP, HTTP, custom APIs).")


@strawberry.enum(description="An organization's plan: how many actions it may propose per month.")
class Plan(Enum):
    free = value("free", description="1,000 actions a month.")
    pro = value("pro", description="100,000 actions a month.")
    enterprise = value("enterprise", description="Unlimited.")


@strawberry.enum(description="What an API key may do; a write scope also reads the same resource. Keys show and "
                             "take scopes as strings (`actions:write`); these names spell `:` as `_` and `*:read` "
                             "as `all_read`.")
class Scope(Enum):
    actions_read = value("actions:read", description="`actions:read`: read actions and their history.")
    actions_write = value("actions:write", description="`actions:write`: propose actions and submit evidence.")
    approvals_read = value("approvals:read", description="`approvals:read`: read approvals and the pending set.")
    approvals_write = value("approvals:write", description="`approvals:write`: approve and reject actions.")
    policies_read = value("policies:read", description="`policies:read`: read policies, simulate decisions.")
    policies_write = value("policies:write", description="`policies:write`: create, change and archive policies.")
    workflows_read = value("workflows:read", description="`workflows:read`: read workflows and executions.")
    workflows_write = value("workflows:write", description="`workflows:write`: change and run workflows.")
    credentials_read = value("credentials:read", description="`credentials:read`: read sanitized credentials.")
    credentials_write = value("credentials:write", description="`credentials:write`: create and change credentials.")
    connectors_read = value("connectors:read", description="`connectors:read`: read connectors and their calls.")
    connectors_write = value("connectors:write", description="`connectors:write`: change connectors, run actions.")
    webhooks_read = value("webhooks:read", description="`webhooks:read`: read webhooks and their deliveries.")
    webhooks_write = value("webhooks:write", description="`webhooks:write`: change, test and redeliver webhooks.")
    events_read = value("events:read", description="`events:read`: subscribe to the event feed.")
    agents_read = value("agents:read", description="`agents:read`: read agents, their counts and actions.")
    agents_write = value("agents:write", description="`agents:write`: register, change and disable agents.")
    audit_read = value("audit:read", description="`audit:read`: read, export and verify the audit trail.")
    all_read = value("*:read", description="`*:read`: read everything.")
    admin = value("admin", description="`admin`: everything, including API keys.")


@strawberry.enum(description="The codes errors carry in `extensions.code`; REST answers the same code in `error`.")
class ErrorCode(Enum):
    BAD_REQUEST = value("BAD_REQUEST", description="Malformed input, or a document GraphQL refused (400).")
    VALIDATION_ERROR = value("VALIDATION_ERROR", description="Well-formed input that breaks a rule (400).")
    UNAUTHORIZED = value("UNAUTHORIZED", description="No API key, or a bad or revoked one (401).")
    USAGE_LIMIT_EXCEEDED = value("USAGE_LIMIT_EXCEEDED", description="The plan's monthly quota is used up (402).")
    FORBIDDEN = value("FORBIDDEN", description="The API key lacks the scope the operation needs (403).")
    NOT_FOUND = value("NOT_FOUND", description="Absent, or another organization's (404).")
    METHOD_NOT_ALLOWED = value("METHOD_NOT_ALLOWED", description="The HTTP method is not served here (405).")
    CONFLICT = value("CONFLICT", description="The object's state does not allow it now (409).")
    PAYLOAD_TOO_LARGE = value("PAYLOAD_TOO_LARGE", description="The request body is over the limit (413).")
    UNSUPPORTED_MEDIA_TYPE = value("UNSUPPORTED_MEDIA_TYPE", description="The body is not JSON (415).")
    RATE_LIMITED = value("RATE_LIMITED", description="Too many requests for this API key; retry later (429).")
    INTERNAL = value("INTERNAL", description="Something unexpected failed; no detail is given (500).")
    CONNECTOR_FAILED = value("CONNECTOR_FAILED", description="A connector's provider failed the call (502); "
                                                             "extensions add `retryable`, `callId`, "
                                                             "`providerStatus` and `retryAfter`.")
    SERVICE_UNAVAILABLE = value("SERVICE_UNAVAILABLE", description="The database or Redis is unreachable for a "
                                                                   "moment (503, with Retry-After): send the same "
                                                                   "request again.")
