"""Policies: create, list, read, update (the version goes up), archive (kept, no longer evaluated).

Every create and update keeps the new state as a version in the same transaction (versions.py).

Rules are validated by the engine's validator and stored in their normalised form. Every write
drops the organization's compiled policies on every replica once it commits.
"""

from __future__ import annotations

from typing import Any, Final

from app.core.after_commit import atomic, on_commit
from app.core.ids import new_id
from models.governance import Policy
from resolvers.access import require
from resolvers.agents.references import check_agents
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.governance.approvers import resolve_rules
from resolvers.governance.cache import policies_changed
from resolvers.governance.inputs import PolicyIn, PolicyPatch, parse
from resolvers.governance.rules import RuleError, agent_ids_named, validate_rules
from resolvers.governance.versions import record as record_version
from resolvers.lookup import owned
from resolvers.notifications.targets import checked_notify, hold_notified
from resolvers.pagination import MAX_LIMIT, Page, check_limit, paginate

STATUSES: Final = ("active", "archived")
MAX_FILTERED: Final = 1000


def normalised_rules(raw: Any) -> list[dict[str, Any]]:
    """Rules in stored form, or Invalid naming the offending path (``rules[0].when.colour``)."""
    try:
        return [rule.to_json() for rule in validate_rules(raw)]
    except RuleError as err:
        raise Invalid(f"{err.path}: {err.message}", details={"path": err.path}) from None


async def checked_rules(ctx: Context, raw: Any) -> list[dict[str, Any]]:
    """`normalised_rules`, and every exact `agentId` a rule names is an agent of the organization."""
    try:
        rules = validate_rules(raw)
    except RuleError as err:
        raise Invalid(f"{err.path}: {err.message}", details={"path": err.path}) from None
    await check_agents(ctx.organization_id, agent_ids_named(rules), "rules.when.agentId")
    return [rule.to_json() for rule in rules]


def _changed(ctx: Context) -> None:
    async def drop() -> None:
        await policies_changed(ctx.services, ctx.organization_id)

    on_commit(drop)


async def create(ctx: Context, data: Any) -> Policy:
    """A new policy; a nameless one (as the public SDK sends) gets a generated name."""
    require(ctx, "policies:write")
    spec = parse(PolicyIn, data)
    rules = await checked_rules(ctx, spec.rules)
    notify = await checked_notify(ctx, spec.notify)
    policy_id = new_id("pol")
    async with atomic() as conn:
        rules = await resolve_rules(ctx.organization_id, rules, conn)  # groups locked until commit
        if spec.status == "active":
            await hold_notified(ctx, notify, conn)
        policy = await Policy.create(
            id=policy_id, organization_id=ctx.organization_id, name=spec.name or f"policy-{policy_id[4:12]}",
            description=spec.description, mode=spec.mode, status=spec.status, rules=rules, notify=notify,
            using_db=conn,
        )
        await record_version(policy, ctx.key_id, conn)
        await trail.record(ctx, "policy.created", policy.id, trail.created(_audited(policy)), conn)
        _changed(ctx)
    return policy


async def get(ctx: Context, policy_id: str) -> Policy:
    require(ctx, "policies:read")
    return await owned(Policy, ctx, policy_id, "policy")


def _status_filter(status: str | None) -> dict[str, str]:
    if status is None:
        return {}
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    return {"status": status}


async def list_policies(
    ctx: Context, *, status: str | None = None, action_type: str | None = None, limit: int | None = None,
    cursor: str | None = None,
) -> Page[Policy]:
    """A page of policies; with `action_type`, a page of those that could apply to it (GraphQL's
    `policies(actionType:)`, the question REST's ``GET /policy?actionType=`` answers in one list)."""
    require(ctx, "policies:read")
    query = Policy.filter(organization_id=ctx.organization_id, **_status_filter(status))
    if action_type is None:
        return await paginate(query, limit, cursor)
    _check_action_type(action_type)
    size = check_limit(limit)
    matched: list[tuple[Policy, str]] = []
    while len(matched) <= size:  # one more than the page: whether another page follows
        page = await paginate(query, MAX_LIMIT, cursor)
        matched += [(row, c) for row, c in zip(page.items, page.cursors, strict=True) if _applies_to(row, action_type)]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    kept = matched[:size]
    return Page([row for row, _ in kept], [c for _, c in kept], kept[-1][1] if len(matched) > size else None)


async def for_action_type(ctx: Context, action_type: str, *, status: str | None = None) -> list[Policy]:
    """Policies with a rule that could apply to `action_type` (the SDK's ``GET /policy?actionType=``)."""
    require(ctx, "policies:read")
    _check_action_type(action_type)
    query = Policy.filter(organization_id=ctx.organization_id, **_status_filter(status))
    rows = await query.order_by("-created_at", "-id").limit(MAX_FILTERED)
    return [row for row in rows if _applies_to(row, action_type)]


def _check_action_type(action_type: str) -> None:
    """As an action's `type` may be: 1 to 200 characters, no NUL (REST's query refused the rest first)."""
    if not 1 <= len(action_type) <= 200 or "\x00" in action_type:
        raise Invalid("actionType must be 1 to 200 characters, without NUL")


def _applies_to(policy: Policy, action_type: str) -> bool:
    for rule in validate_rules(policy.rules, stored=True):
        condition = rule.when.action_type
        if condition is None or condition.matches(action_type):
            return True
    return False


async def update(ctx: Context, policy_id: str, data: Any, *, unless_unchanged: bool = False) -> Policy:
    """Replace the given fields and bump the version; other fields keep their values.
    `unless_unchanged`: when the fields already had those values, change nothing."""
    require(ctx, "policies:write")
    patch = parse(PolicyPatch, data)
    changes = {k: v for k, v in patch.model_dump(exclude_unset=True).items() if v is not None or k == "description"}
    if "rules" in changes:
        changes["rules"] = await checked_rules(ctx, changes["rules"])
    if "notify" in patch.model_fields_set:
        changes["notify"] = await checked_notify(ctx, patch.notify)
    async with atomic() as conn:
        if "rules" in changes:
            changes["rules"] = await resolve_rules(ctx.organization_id, changes["rules"], conn)
        policy = await _locked(ctx, policy_id, conn)
        before = _audited(policy)
        for key, value in changes.items():
            setattr(policy, key, value)
        if unless_unchanged and _audited(policy) == before:
            return policy
        if policy.status == "active" and ("notify" in changes or before["status"] != "active"):
            await hold_notified(ctx, policy.notify or [], conn)
        policy.version += 1
        await policy.save(using_db=conn)
        await record_version(policy, ctx.key_id, conn)
        archived = policy.status == "archived" and before["status"] != "archived"
        await trail.record(ctx, "policy.archived" if archived else "policy.updated", policy.id,
                           trail.diff(before, _audited(policy)), conn)
        _changed(ctx)
    return policy


async def archive(ctx: Context, policy_id: str) -> Policy:
    """Archive (soft delete): still readable, never evaluated again unless reactivated. Archiving an
    archived policy changes nothing: a DELETE retried must not add a version and an audit entry each
    time."""
    return await update(ctx, policy_id, {"status": "archived"}, unless_unchanged=True)


def _audited(policy: Policy) -> dict[str, Any]:
    """A policy's fields as its audit entries compare them."""
    return {"name": policy.name, "description": policy.description, "mode": policy.mode, "status": policy.status,
            "rules": policy.rules, "notify": policy.notify, "version": policy.version}


async def _locked(ctx: Context, policy_id: str, conn: Any) -> Policy:
    return await owned(Policy, ctx, policy_id, "policy", conn=conn, lock=True)
