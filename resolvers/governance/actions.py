"""Actions: propose (decide, count, store, announce), read, list, and simulate a decision.

Proposing is the hot path: compiled policies come from the per-process cache, the quota is one
atomic statement, and the action, its approval, first history entry and event are written in one
transaction (on PostgreSQL one statement: store_pg.py). A retried proposal (same idempotency key:
the ``Idempotency-Key`` header, the ``idempotencyKey`` field or the SDK's own ``id``) returns the
original action; the unique constraint on (organization, key) settles races between concurrent
retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from tortoise.exceptions import IntegrityError

from app.core import agent_rates
from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.ids import new_id
from models.governance import Action, Approval, Policy
from resolvers.access import require
from resolvers.agents import caps, counters, killswitch
from resolvers.agents.identity import Proposer, as_proposed, proposer_of
from resolvers.audit import trail
from resolvers.audit.trail import created
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid
from resolvers.governance import grant_window, quota, store_pg
from resolvers.governance.approvers import eligible_keys
from resolvers.governance.cache import compiled_policies, in_force, specs_of
from resolvers.governance.engine import ActionFacts, CompiledPolicies, Decision
from resolvers.governance.inputs import PolicyIn, ProposalIn, checked_metadata, parse
from resolvers.governance.policies import normalised_rules
from resolvers.governance.records import (
    announce,
    approval_id_of,
    audit_after,
    checks_to_rows,
    decider,
    history_row,
)
from resolvers.governance.rules import MAX_EXPIRES_IN_SECONDS
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate

STATUSES: Final = ("approved", "pending_approval", "rejected", "expired", "cancelled")


@dataclass(slots=True)
class Proposal:
    """The stored action and whether it is the original answer to a retried proposal."""

    action: Action
    replayed: bool = False


def facts_of(spec: ProposalIn, verified: bool = False) -> ActionFacts:
    actor = spec.actor
    return ActionFacts(spec.type, actor.kind, actor.name, actor.provider, spec.target, spec.params or {},
                       spec.agentId, verified)


@dataclass(slots=True, frozen=True)
class Verdict:
    """The decision on a proposal and, when the kill switch made it, its reason and decider."""

    decision: Decision
    reason: str | None = None
    by: str = "policy"
    policy_set_id: str | None = None  # the versions that decided it (None when no policy did)


async def _decide(ctx: Context, spec: ProposalIn, proposer: Proposer) -> Verdict:
    """The kill switch first (a disabled agent is rejected, not 401), then its cap, then the policies."""
    agent = proposer.agent
    if agent is not None and agent.status == "disabled":
        return Verdict(Decision("rejected"), killswitch.reason_for(agent), killswitch.BY)
    if agent is not None:
        await caps.take(ctx, agent)
    policies = await in_force(ctx.services, ctx.organization_id)
    return Verdict(policies.compiled.decide(facts_of(spec, proposer.verified)), policy_set_id=policies.set_id)


async def propose(ctx: Context, data: Any, *, idempotency_key: str | None = None) -> Proposal:
    """Decide and store a proposed action (402 past the monthly quota, 409 on a reused key)."""
    require(ctx, "actions:write")
    spec = parse(ProposalIn, data)
    if idempotency_key and spec.idempotencyKey and idempotency_key != spec.idempotencyKey:
        raise Invalid("the Idempotency-Key header and the body's idempotencyKey differ: send one, or the same")
    key = idempotency_key or spec.idempotencyKey or spec.id
    if key is not None and (len(key) > 255 or "\x00" in key):
        raise Invalid("idempotency key must be at most 255 characters, without NUL")
    if key is not None and (earlier := await _by_key(ctx, key)) is not None:
        return _replay(earlier, spec)
    proposer = await proposer_of(ctx, spec)
    verdict = await _decide(ctx, as_proposed(spec, proposer), proposer)
    decision = verdict.decision
    standing = (await grant_window.standing_approval(ctx, as_proposed(spec, proposer), decision)
                if verdict.reason is None and decision.grant_for else None)
    review = await review_of(ctx, decision) if standing is None and verdict.reason is None else None
    month = await quota.take(ctx.organization_id, ctx.plan) if verdict.reason is None else None
    try:
        return Proposal(await _stored(ctx, spec, proposer, verdict, key, standing, review))
    except IntegrityError:
        await quota.give_back(ctx.organization_id, month)
        earlier = await _by_key(ctx, key) if key is not None else None
        if earlier is None:
            raise
        return _replay(earlier, spec)
    except BaseException:
        await quota.give_back(ctx.organization_id, month)
        raise


async def _by_key(ctx: Context, key: str) -> Action | None:
    return await Action.get_or_none(organization_id=ctx.organization_id, idempotency_key=key)


def _replay(earlier: Action, spec: ProposalIn) -> Proposal:
    if earlier.request_hash != spec.fingerprint():
        raise Conflict("this idempotency key was already used with a different request body")
    return Proposal(earlier, replayed=True)


async def review_of(ctx: Context, decision: Decision) -> dict[str, Any] | None:
    """How a pending action is to be reviewed, with the keys that may decide it resolved now."""
    if decision.status != "pending_approval" or decision.review is None:
        return None
    review = decision.review.to_json()
    review["eligible"] = await eligible_keys(ctx.organization_id, decision.review.approvers)
    return review


async def _stored(ctx: Context, spec: ProposalIn, proposer: Proposer, verdict: Verdict, key: str | None,
                  standing: Action | None, review: dict[str, Any] | None) -> Action:
    """Store the proposal as its agent's; a pending action of an agent disabled meanwhile is rejected
    at once (the second look of resolvers/agents/killswitch.py)."""
    action = await _store(ctx, spec, key, proposer, verdict, standing, review)
    agent = proposer.agent
    if agent is not None:
        agent_rates.observe(agent.id, action.status)
        if action.status == "pending_approval" and not await killswitch.still_enabled(agent):
            await killswitch.reject_pending(ctx.services, agent)
            action = await Action.get(id=action.id)
    return action


def _action_fields(
    ctx: Context, spec: ProposalIn, key: str | None, proposer: Proposer, verdict: Verdict,
    review: dict[str, Any] | None,
) -> dict[str, Any]:
    """Every column of the new action row (the actor and agent as `identity.as_proposed` says).
    The request's fingerprint is kept only with an idempotency key: a retry is the one reader."""
    fingerprint = spec.fingerprint() if key is not None else None
    spec, decision = as_proposed(spec, proposer), verdict.decision
    pending = decision.status == "pending_approval"
    now = utcnow()
    return dict(
        id=new_id("act"), organization_id=ctx.organization_id, type=spec.type, actor_kind=spec.actor.kind,
        actor_name=spec.actor.name, actor_provider=spec.actor.provider, target=spec.target,
        params=spec.params or {}, status=decision.status, policy_ids=list(decision.policy_ids),
        checks=checks_to_rows(decision.checks), observed=[o._asdict() for o in decision.observed],
        approval_mode=decision.approval, created_at=now,
        expires_at=now + timedelta(seconds=min(decision.expires_in or 0, MAX_EXPIRES_IN_SECONDS)) if pending else None,
        decided_at=None if pending else now, decided_by=None if pending else verdict.by,
        client_ref=spec.id, client_timestamp=spec.timestamp, agent_id=spec.agentId,
        idempotency_key=key, request_hash=fingerprint, reason=verdict.reason, actor_verified=proposer.verified,
        metadata=checked_metadata(spec.metadata), grant_consumed_at=None, grant_consumed_by=None,
        proposed_by=ctx.key_id, review=review, votes=[], original_params=None, escalated_at=None,
        policy_set_id=verdict.policy_set_id,
    )


async def _store(ctx: Context, spec: ProposalIn, key: str | None, proposer: Proposer, verdict: Verdict,
                 standing: Action | None, review: dict[str, Any] | None) -> Action:
    fields = _action_fields(ctx, spec, key, proposer, verdict, review)
    if standing is not None:  # approved at once by a human approval's grantFor window
        fields |= dict(status="approved", approval_mode=None, expires_at=None, decided_at=fields["created_at"],
                       decided_by=f"{grant_window.GRANT_PREFIX}{standing.id}")
    elif (conn := store_pg.connection_for_one_statement()) is not None:
        audit = trail.row_values(ctx, "action.proposed", fields["id"], _proposal_changes(fields))
        return await store_pg.store(conn, ctx.services, fields, decider(ctx), audit)
    action = Action(**fields)
    await _store_orm(ctx, action, standing)
    return action


def _proposal_changes(fields: dict[str, Any]) -> dict[str, Any]:
    """The proposal's audit entry: the new action as `records.audit_after` shows it."""
    return {"after": {"status": fields["status"], "type": fields["type"], "target": fields["target"],
                      "policyIds": fields["policy_ids"], "decidedBy": fields["decided_by"], "reason": fields["reason"],
                      "edited": False}}


async def _store_orm(ctx: Context, action: Action, standing: Action | None = None) -> None:
    """The same rows through the ORM in one transaction (SQLite, or inside a caller's transaction)."""
    async with atomic():
        await action.save(force_create=True)
        if action.status == "pending_approval":
            await Approval.create(id=approval_id_of(action), organization_id=ctx.organization_id, action_id=action.id)
        await history_row(action, "proposed", decider(ctx), {"policyIds": action.policy_ids}).save()
        await trail.record(ctx, "action.proposed", action.id, created(audit_after(action)))
        await counters.proposed(action)
        if standing is not None:
            for row in grant_window.record_use(action, standing, decider(ctx)):
                await row.save()
        await announce(ctx.services, action)


async def get(ctx: Context, action_id: str) -> Action:
    require(ctx, "actions:read")
    return await owned(Action, ctx, action_id, "action")


async def list_actions(
    ctx: Context, *, status: str | None = None, type: str | None = None,
    limit: int | None = None, cursor: str | None = None,
) -> Page[Action]:
    require(ctx, "actions:read")
    filters = action_filters(status=status, type=type)
    return await paginate(Action.filter(organization_id=ctx.organization_id, **filters), limit, cursor)


def action_filters(*, status: str | None = None, type: str | None = None) -> dict[str, str]:
    """The checked `status` and `type` filters of an action list, shared by every list of actions
    (an agent's too) so that each door filters and refuses alike."""
    filters: dict[str, str] = {}
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}")
        filters["status"] = status
    if type is not None:
        if "\x00" in type:
            raise Invalid("type must not contain NUL characters")
        filters["type"] = type
    return filters


async def simulate(ctx: Context, data: Any) -> Decision:
    """The decision a proposal would get now, persisting nothing and counting no quota.

    ``policies`` (optional) are draft policies evaluated as if active next to the stored ones, so an
    operator can try a policy before enabling it.
    """
    require(ctx, "policies:read")
    if not isinstance(data, dict):
        raise Invalid("body: must be an object")
    drafts = data.get("policies") or []
    spec = parse(ProposalIn, {k: v for k, v in data.items() if k != "policies"})
    if not drafts:
        return (await compiled_policies(ctx.services, ctx.organization_id)).decide(facts_of(spec))
    return await _simulate_with_drafts(ctx, spec, drafts)


async def _simulate_with_drafts(ctx: Context, spec: ProposalIn, drafts: Any) -> Decision:
    if not isinstance(drafts, list):
        raise Invalid("policies: must be a list of policies")
    rows = await Policy.filter(organization_id=ctx.organization_id, status="active")
    for index, raw in enumerate(drafts):
        draft = parse(PolicyIn, raw)
        rows.append(Policy(id=f"draft_{index}", mode=draft.mode, rules=normalised_rules(draft.rules),
                           created_at=utcnow()))
    return CompiledPolicies.build(specs_of(rows)).decide(facts_of(spec))
