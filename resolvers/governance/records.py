"""What every governance write shares: checks to and from rows, history entries, action events.

A status change always does three things in the caller's transaction: update the action, append a
history row (the audit trail) and emit the ``action.<status>`` event whose data carries the fields
of document 001's webhook example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.after_commit import on_commit
from app.core.clock import isoformat_z, utcnow
from app.core.ids import new_id
from models.governance import Action, ActionHistory
from resolvers.audit.trail import diff, plain
from resolvers.context import Context, Services
from resolvers.events.outbox import emit
from resolvers.governance.engine import CheckState

DECIDED_CHANNEL = "gatehouse:actions:decided"  # an action id, published once its decision committed


def checks_to_rows(checks: Sequence[CheckState]) -> list[dict[str, Any]]:
    return [{"name": c.name, "status": c.status, "note": c.note, "required": c.required} for c in checks]


def checks_of(action: Action) -> tuple[CheckState, ...]:
    return tuple(CheckState(c["name"], c["status"], c.get("note"), c.get("required", True)) for c in action.checks)


def public_checks(action: Action) -> list[dict[str, Any]]:
    """Checks as the wire shows them: ``{name, status, note}``."""
    return [{"name": c["name"], "status": c["status"], "note": c.get("note")} for c in action.checks]


def actor_of(action: Action) -> dict[str, Any]:
    """The actor as proposed, and whether a key bound to that agent proved it (`verified`)."""
    actor = {"kind": action.actor_kind, "name": action.actor_name, "provider": action.actor_provider}
    return {**{key: value for key, value in actor.items() if value is not None}, "verified": action.actor_verified}


def history_row(action: Action, kind: str, by: str | None, detail: dict[str, Any] | None = None) -> ActionHistory:
    """An unsaved history entry recording the action's status after `kind` happened."""
    return ActionHistory(
        id=new_id("hist"), organization_id=action.organization_id, action_id=action.id,
        kind=kind, status=action.status, by=by, detail=detail or {}, created_at=utcnow(),
    )


async def note_proposers_reason(action_id: str, field: str, reason: str) -> None:
    """The proposer's own why (an agent's over MCP: `agentReason`; a workflow approval step's:
    `workflowReason`) on the action's `proposed` history entry, where reviewers read it."""
    row = await ActionHistory.filter(action_id=action_id, kind="proposed").first()
    if row is not None:
        row.detail = {**row.detail, field: reason}
        await row.save(update_fields=["detail"])


def approval_url(services: Services, action_id: str) -> str:
    """Where a reviewer sees and decides the action: the console's approval page."""
    return f"{services.settings.public_url.rstrip('/')}/console/approve/{action_id}"


def approval_id_of(action: Action) -> str | None:
    """An action's approval shares its random part (``act_X`` -> ``apr_X``): no lookup needed."""
    return f"apr_{action.id[4:]}" if action.approval_mode is not None else None


def decision_of(action: Action) -> dict[str, Any]:
    """The decision as the wire shows it; ``edited`` appears once an approver changed the params,
    ``reason`` when one was given (a rejection's message for the agent; the kill switch names it)."""
    decision: dict[str, Any] = {"status": action.status, "checks": public_checks(action)}
    if action.reason is not None:
        decision["reason"] = action.reason
    if action.original_params is not None:
        decision["edited"] = True
    return decision


def event_data(services: Services, action: Action) -> dict[str, Any]:
    """The webhook example's fields plus the status and decision reached (and, once edited, the
    params as proposed beside the effective ``params``)."""
    data = _event_fields(services, action)
    if action.original_params is not None:
        data["originalParams"] = action.original_params
    return data


def _event_fields(services: Services, action: Action) -> dict[str, Any]:
    return {
        "actionId": action.id,
        "type": action.type,
        "actor": actor_of(action),
        "target": action.target,
        "params": action.params,
        "approvalUrl": approval_url(services, action.id),
        "timestamp": isoformat_z(utcnow()),
        "status": action.status,
        "decision": decision_of(action),
        "reason": action.reason,
        "approvalId": approval_id_of(action),  # set when the action waited for a human (subscriptions)
        "policyIds": action.policy_ids,  # whose rules matched: their `notify` connectors hear of it
        "metadata": action.metadata,  # as the proposer gave it, in every event of the action
        **_granted_by(action),
    }


def _granted_by(action: Action) -> dict[str, str]:
    """`grantedBy`: the action whose grantFor window approved this one (governance/grant_window.py)."""
    by = action.decided_by
    return {"grantedBy": by[6:]} if by is not None and by.startswith("grant:") else {}


async def announce(services: Services, action: Action) -> None:
    """Emit ``action.<status>`` for the action's new status, inside the caller's transaction; a
    decision also wakes, after commit, the requests long-polling this action (governance/waiting.py)."""
    await emit(services, action.organization_id, f"action.{action.status}", event_data(services, action))
    if action.status != "pending_approval":
        action_id = action.id

        async def wake() -> None:
            await services.bus.publish(DECIDED_CHANNEL, action_id.encode())

        on_commit(wake)


def audit_after(action: Action) -> dict[str, Any]:
    """An action's fields as its audit entries record them (compact: no params, which are the
    agent's data, only whether they were edited)."""
    return {"status": action.status, "type": action.type, "target": action.target, "policyIds": action.policy_ids,
            "decidedBy": action.decided_by, "reason": action.reason, "edited": action.original_params is not None}


def audit_changes(before: dict[str, Any], action: Action, **extra: Any) -> dict[str, Any]:
    """The before/after of an action's change (`before`: `audit_after` taken before it), plus `extra`."""
    changes = diff(before, audit_after(action))
    return changes | ({"detail": plain(extra)} if extra else {})


def decider(ctx: Context) -> str | None:
    """Who decided, for the audit trail: the API key's id."""
    return ctx.key_id
