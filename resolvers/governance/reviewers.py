"""Reviewer groups: create, list, read, update, delete (scope policies:read / policies:write).

Groups are part of how policies decide, so they share the policies scopes. Members must be live API
keys of the same organization that can decide (not bound to an agent, with approvals:write or admin): a
member that never could would only pad a quorum that can never be met. A group a policy rule names
(in ``approvers`` or ``escalateTo``) can neither be deleted nor shrunk below what that rule needs, nor
can a key be revoked when that would leave a rule short: 409 naming the policy. Every change emits
``reviewer_group.created|updated|deleted``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from tortoise.exceptions import IntegrityError

from app.core.after_commit import atomic
from app.core.ids import new_id
from models.governance import Policy
from models.reviewers import ReviewerGroup
from resolvers.access import require
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid
from resolvers.events.outbox import emit
from resolvers.governance.approvers import Directory, check_sizes, deciding, names_group, references
from resolvers.governance.inputs import parse
from resolvers.lookup import owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_name

MAX_MEMBERS: Final = 100


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    members: list[str] = Field(default_factory=list, max_length=MAX_MEMBERS)


class GroupPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    members: list[str] | None = Field(None, max_length=MAX_MEMBERS)


def event_data(group: ReviewerGroup) -> dict[str, Any]:
    return {"groupId": group.id, "name": group.name, "description": group.description,
            "members": list(group.members)}


async def _checked_members(ctx: Context, members: list[str]) -> list[str]:
    """Members in the order given, without repeats; each a live key of this organization that can decide."""
    wanted = list(dict.fromkeys(members))
    found = await deciding(ctx.organization_id, wanted)
    for index, key_id in enumerate(wanted):
        if key_id not in found:
            raise Invalid(f"members[{index}]: '{key_id}' is not an API key of this organization",
                          details={"path": f"members[{index}]"})
        if found[key_id] is not None:
            raise Invalid(f"members[{index}]: API key '{key_id}' can never approve: {found[key_id]}",
                          details={"path": f"members[{index}]"})
    return wanted


def _name(name: str) -> str:
    name = check_name(name)
    if name.startswith("key_"):
        raise Invalid("name must not start with 'key_': rules would read it as an API key id")
    return name


async def create(ctx: Context, data: Any) -> ReviewerGroup:
    require(ctx, "policies:write")
    spec = parse(GroupIn, data)
    group = ReviewerGroup(id=new_id("grp"), organization_id=ctx.organization_id, name=_name(spec.name),
                          description=spec.description, members=await _checked_members(ctx, spec.members))
    try:
        async with atomic():
            await group.save(force_create=True)
            await emit(ctx.services, ctx.organization_id, "reviewer_group.created", event_data(group))
            await trail.record(ctx, "reviewer_group.created", group.id, trail.created(_audited(group)))
    except IntegrityError:
        raise Conflict(f"a reviewer group named '{group.name}' already exists") from None
    return group


async def get(ctx: Context, group_id: str) -> ReviewerGroup:
    require(ctx, "policies:read")
    return await owned(ReviewerGroup, ctx, group_id, "reviewer group")


async def list_groups(ctx: Context, *, limit: int | None = None, cursor: str | None = None) -> Page[ReviewerGroup]:
    require(ctx, "policies:read")
    return await paginate(ReviewerGroup.filter(organization_id=ctx.organization_id), limit, cursor)


async def update(ctx: Context, group_id: str, data: Any) -> ReviewerGroup:
    """Replace the fields given; shrinking below what a rule naming the group needs is 409."""
    require(ctx, "policies:write")
    patch = parse(GroupPatch, data)
    given = patch.model_fields_set
    async with atomic() as conn:
        group = await owned(ReviewerGroup, ctx, group_id, "reviewer group", conn=conn, lock=True)
        before = _audited(group)
        if "name" in given and patch.name is not None:
            group.name = _name(patch.name)
        if "description" in given:
            group.description = patch.description  # type: ignore[assignment]
        if "members" in given:
            group.members = await _checked_members(ctx, patch.members or [])
            await _still_enough(ctx, group)
        try:
            await group.save(using_db=conn)
        except IntegrityError:
            raise Conflict(f"a reviewer group named '{group.name}' already exists") from None
        await emit(ctx.services, ctx.organization_id, "reviewer_group.updated",
                   {**event_data(group), "changed": sorted(given)})
        await trail.record(ctx, "reviewer_group.updated", group.id, trail.diff(before, _audited(group)), conn)
    return group


def _audited(group: ReviewerGroup) -> dict[str, Any]:
    return {"name": group.name, "description": group.description, "members": group.members}


Naming = list[tuple[Policy, int, dict[str, Any]]]


async def _naming(ctx: Context, names: Callable[[Mapping[str, Any]], bool]) -> Naming:
    """(policy, rule index, rule) for every rule of the organization's policies that `names` picks."""
    policies = await Policy.filter(organization_id=ctx.organization_id).order_by("created_at", "id")
    return [(p, i, rule) for p in policies for i, rule in enumerate(p.rules) if names(rule)]


def _unmet(directory: Directory, naming: Naming) -> tuple[Policy, dict[str, Any], str] | None:
    """The first rule of `naming` that `directory` (a membership about to be stored) leaves short of
    keys that can decide: (policy, rule, what is missing); None when every one is still met."""
    for policy, index, rule in naming:
        try:
            check_sizes(directory, rule, f"rules[{index}]")
        except Invalid as err:
            return policy, rule, err.message
    return None


async def _still_enough(ctx: Context, group: ReviewerGroup) -> None:
    naming = await _naming(ctx, lambda rule: names_group(rule, group.id))
    if not naming:
        return
    directory = await Directory.load(ctx.organization_id)
    directory.groups[group.id] = group  # the new membership
    unmet = _unmet(directory, naming)
    if unmet is not None:
        policy, _rule, missing = unmet
        raise Conflict(f"policy {policy.id} ({policy.name}) needs more keys: {missing}")


async def check_revocable(ctx: Context, key_id: str, conn: Any) -> None:
    """409 when revoking `key_id` would leave a policy rule (through a group, or naming the key itself)
    short of keys that can decide; the groups stay locked in `conn` until the revocation commits."""
    directory = await Directory.load(ctx.organization_id, conn)
    if key_id not in directory.keys or directory.keys[key_id] is not None:
        return  # it never counted towards a quorum: revoking it leaves every rule as it was
    del directory.keys[key_id]  # as the revocation will leave it
    naming = await _naming(ctx, lambda rule: key_id in directory.members(references(rule)))
    unmet = _unmet(directory, naming)
    if unmet is not None:
        policy, rule, missing = unmet
        raise Conflict(f"API key {key_id} cannot be revoked: policy {policy.id} ({policy.name}) needs it "
                       f"through {_holding(directory, rule, key_id)}: {missing}; change that rule or add a "
                       "member first")


def _holding(directory: Directory, rule: Mapping[str, Any], key_id: str) -> str:
    """How a rule reaches `key_id`: the reviewer groups holding it, or the rule naming it directly."""
    groups = [directory.groups[ref] for ref in references(rule) if ref in directory.groups
              and key_id in directory.groups[ref].members]
    named = ["the rule naming it"] if key_id in references(rule) else []
    return ", ".join([*(f"reviewer group {g.id} ({g.name})" for g in groups), *named])


async def delete(ctx: Context, group_id: str) -> ReviewerGroup:
    """Delete a group no policy rule names (archived policies included: they may come back)."""
    require(ctx, "policies:write")
    async with atomic() as conn:
        group = await owned(ReviewerGroup, ctx, group_id, "reviewer group", conn=conn, lock=True)
        naming = await _naming(ctx, lambda rule: names_group(rule, group.id))
        if naming:
            policy, index, _rule = naming[0]
            raise Conflict(f"reviewer group {group.id} ({group.name}) is named by policy {policy.id} "
                           f"({policy.name}) in rules[{index}]; change that rule first")
        await group.delete(using_db=conn)
        await emit(ctx.services, ctx.organization_id, "reviewer_group.deleted", event_data(group))
        await trail.record(ctx, "reviewer_group.deleted", group.id, trail.deleted(_audited(group)), conn)
    return group
