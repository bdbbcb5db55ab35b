"""What the native MCP tools do, in domain terms: propose as the caller's agent, describe the
policies for planning, and answer Claude Code's permission prompt.

Every answer about an action has one shape (`answer`), whichever tool gives it.
"""

from __future__ import annotations

from typing import Any

from app.core.clock import isoformat_z
from models.governance import Action, Policy
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.governance.actions import propose
from resolvers.governance.engine import alone
from resolvers.governance.outcome import effective_params, reason_of, was_edited
from resolvers.governance.records import approval_url, note_proposers_reason, public_checks
from resolvers.governance.rules import validate_rules
from resolvers.mcp.calls import result_of
from resolvers.mcp.identity import actor_of

POLL_AFTER_SECONDS = 5
MAX_REASON = 10_000


def answer(ctx: Context, action: Action) -> dict[str, Any]:
    """An action as an agent reads it: where it stands and what to do with it."""
    pending = action.status == "pending_approval"
    return {
        "action_id": action.id, "type": action.type, "target": action.target, "status": action.status,
        "decision": {"status": action.status, "checks": public_checks(action)},
        "effective_params": effective_params(action), "edited": was_edited(action),
        "reason": reason_of(action), "approval_url": approval_url(ctx.services, action.id) if pending else None,
        "expires_at": isoformat_z(action.expires_at) if action.expires_at else None,
        "poll_after_seconds": POLL_AFTER_SECONDS if pending else None,
    }


async def answer_with_result(ctx: Context, action: Action) -> dict[str, Any]:
    """`answer`, plus what the gateway recorded when the action was a gateway tool call."""
    return {**answer(ctx, action), "gateway_call": await result_of(ctx, action.id)}


async def propose_as_agent(
    ctx: Context, type: str, target: str | None, params: dict[str, Any] | None,
    reason: str | None = None, idempotency_key: str | None = None,
) -> Action:
    """Propose with the actor taken from the key; the agent's own reason goes to the audit trail."""
    if reason is not None and (len(reason) > MAX_REASON or "\x00" in reason):  # checked before anything is written
        raise Invalid(f"reason must be at most {MAX_REASON} characters, without NUL")
    spec = {"type": type, "actor": await actor_of(ctx), "target": target, "params": params or {}}
    proposal = await propose(ctx, spec, idempotency_key=idempotency_key)
    if reason and not proposal.replayed:
        await note_proposers_reason(proposal.action.id, "agentReason", reason)
    return proposal.action


async def describe_policies(ctx: Context) -> list[dict[str, Any]]:
    """The active rules an agent plans around: which action types need approval, evidence, or are
    refused (observe-mode rules never block, so they are left out)."""
    require(ctx, "actions:read")
    rules: list[dict[str, Any]] = []
    for policy in await Policy.filter(organization_id=ctx.organization_id, status="active").order_by("created_at"):
        for rule, parsed in zip(policy.rules, validate_rules(policy.rules, stored=True), strict=True):
            if (rule.get("mode") or policy.mode) != "enforce":
                continue
            rules.append({
                "policy_id": policy.id, "policy_name": policy.name, "when": rule.get("when") or {},
                "outcome": alone(parsed),  # an `auto` rule without evidence approves: it said pending
                "requires_evidence": list(rule.get("require") or []),
                "human_approval": not rule.get("deny") and rule.get("approval", "manual") == "manual",
            })
    return rules


def permission(action: Action) -> dict[str, Any]:
    """Claude Code's permission-prompt answer for a decided (or still pending) action."""
    if action.status == "approved":
        return {"behavior": "allow", "updatedInput": effective_params(action)}
    if action.status == "pending_approval":
        return {"behavior": "deny", "message": f"Still waiting for a human decision on {action.id}; ask again later."}
    why = reason_of(action) or "refused by policy"
    return {"behavior": "deny", "message": f"Gatehouse {action.status} this: {why}"}
