"""API keys: issue, list, revoke, authenticate. Secrets are shown once and stored as hashes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.crypto import api_key_is_well_formed, hash_api_key, new_api_key
from app.core.ids import new_id
from models.api_keys import ApiKey
from models.organizations import Organization
from resolvers.access import require, validate_scopes
from resolvers.agents.references import check_agents
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid, NotFound
from resolvers.governance.approvers import forget_revoked
from resolvers.governance.records import decider
from resolvers.governance.reviewers import check_revocable
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_name

MAX_RATE_LIMIT = 1_000_000
REVOKED_CHANNEL = "gatehouse:keys:revoked"


@dataclass(slots=True)
class CreatedKey:
    """A key row plus its secret, which exists only in this object."""

    key: ApiKey
    secret: str


async def issue_key(
    org_id: str, *, name: str, scopes: list[str], rate_limit: int | None, agent_id: str | None = None
) -> CreatedKey:
    """Create a key row for `org_id` (no access check: callers have done it, and checked `agent_id`
    with `_check_agent`)."""
    secret = new_api_key()
    key = await ApiKey.create(
        id=new_id("key"),
        organization_id=org_id,
        name=name,
        key_hash=hash_api_key(secret),
        display_prefix=secret[:7],
        scopes=validate_scopes(scopes),
        rate_limit=rate_limit,
        agent_id=agent_id,
    )
    return CreatedKey(key, secret)


async def issue_for_organization(
    org_id: str, *, name: str, scopes: list[str], rate_limit: int | None, agent_id: str | None = None
) -> CreatedKey:
    """A key made by an operator (the CLI): the checks `create` makes, and the organization must exist."""
    if not await Organization.exists(id=org_id):
        raise NotFound(f"organization {org_id} not found")
    name = _check_key_input(name, rate_limit)
    await _check_agent(org_id, agent_id, scopes)
    async with atomic():
        created = await issue_key(org_id, name=name, scopes=scopes, rate_limit=rate_limit, agent_id=agent_id)
        await trail.record(trail.Actor.system(org_id, "cli"), "api_key.created", created.key.id,
                           trail.created(_audited(created.key)))
    return created


async def _check_agent(org_id: str, agent_id: str | None, scopes: list[str]) -> None:
    """A key may be bound only to an agent of its own organization, and then holds no scope that governs
    (400 otherwise, nothing stored): an agent proposes, it never approves or loosens its own leash."""
    if agent_id is not None:
        validate_scopes(scopes, bound=True)
        await check_agents(org_id, [agent_id], "agentId")


def _check_key_input(name: str, rate_limit: int | None) -> str:
    name = check_name(name)
    if rate_limit is not None and not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise Invalid(f"rateLimit must be between 1 and {MAX_RATE_LIMIT}")
    return name


async def create(
    ctx: Context, *, name: str, scopes: list[str], rate_limit: int | None = None, agent_id: str | None = None
) -> CreatedKey:
    """Issue a key in the caller's organization (scope `admin`), optionally bound to one of its agents."""
    require(ctx, "admin")
    name = _check_key_input(name, rate_limit)
    await _check_agent(ctx.organization_id, agent_id, scopes)
    async with atomic():
        created = await issue_key(ctx.organization_id, name=name, scopes=scopes, rate_limit=rate_limit,
                                  agent_id=agent_id)
        await trail.record(ctx, "api_key.created", created.key.id, trail.created(_audited(created.key)))
    return created


def _audited(key: ApiKey) -> dict[str, Any]:
    """What the audit trail records of a key: never its secret or hash."""
    return {"name": key.name, "prefix": key.display_prefix, "scopes": key.scopes, "rateLimit": key.rate_limit,
            "agentId": key.agent_id, "revokedAt": key.revoked_at}


async def list_keys(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[ApiKey]:
    require(ctx, "admin")
    return await paginate(ApiKey.filter(organization_id=ctx.organization_id), limit, cursor)


async def get(ctx: Context, key_id: str) -> ApiKey:
    require(ctx, "admin")
    return await owned(ApiKey, ctx, key_id, "API key")


async def revoke(ctx: Context, key_id: str) -> ApiKey:
    """Revoke a key at once; every replica drops it from its auth cache via the bus. A key a policy
    rule still needs to reach its quorum is kept (409), as a reviewer group shrunk below it would be.
    Actions waiting for it stop waiting for it (approvers.forget_revoked)."""
    require(ctx, "admin")
    async with atomic() as conn:
        key = await owned(ApiKey, ctx, key_id, "API key", conn=conn, lock=True)
        if key.revoked_at is not None:
            raise Conflict(f"API key {key_id} is already revoked")
        await check_revocable(ctx, key.id, conn)
        before = _audited(key)
        key.revoked_at = utcnow()
        await key.save(update_fields=["revoked_at"], using_db=conn)
        await forget_revoked(ctx.services, ctx.organization_id, key.id, conn, decider(ctx))
        await trail.record(ctx, "api_key.revoked", key.id, trail.diff(before, _audited(key)), conn)
    await ctx.bus.publish(REVOKED_CHANNEL, key.id.encode())
    return key


async def find_active_key(secret: str) -> ApiKey | None:
    """The live key for a presented secret, with its organization loaded; None if unknown."""
    if not api_key_is_well_formed(secret):
        return None
    key = await ApiKey.get_or_none(key_hash=hash_api_key(secret)).select_related("organization")
    if key is None or key.revoked_at is not None:
        return None
    return key


async def revoked_among(key_ids: Collection[str]) -> list[str]:
    """Those of `key_ids` revoked by now: a server's check on its open connections, in case the bus
    lost a revocation's message (Redis pub/sub keeps nothing)."""
    found = await ApiKey.filter(id__in=list(key_ids), revoked_at__isnull=False).values_list("id", flat=True)
    return [str(key_id) for key_id in found]


async def touch(key_id: str) -> None:
    """Record use; callers throttle this so it is not a write per request."""
    await ApiKey.filter(id=key_id).update(last_used_at=utcnow())
