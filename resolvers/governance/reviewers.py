"""Reviewer groups: create, list, read, update, delete (scope policies:read / policies:write).

Groups are part of how policies decide, so they share the policies scopes. Members must be live API
keys of the same organization. A group a policy rule names (in ``approvers`` or ``escalateTo``) can
neither be deleted nor shrunk below what that rule needs: 409 naming the policy. Every change emits
``reviewer_group.created|updated|deleted``.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from tortoise.exceptions import IntegrityError

from app.core.after_commit import atomic
from app.core.ids import new_id
from models.api_keys import ApiKey
from models.governance import Policy
from models.reviewers import ReviewerGroup
from resolvers.access import require
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.errors import Conflict, Invalid
from resolvers.events.outbox import emit
from resolvers.governance.approvers import Directory, check_sizes, names_group
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
    """Members in the order given, without repeats; each a live key of this organization."""
    wanted = list(dict.fromkeys(members))
    found = set(await ApiKey.filter(organization_id=ctx.organization_id, id__in=wanted, revoked_at=None)
                .values_list("id", flat=True))
    for index, key_id in enumerate(wanted):
        if key_id not in found:
            raise Invalid(f"members[{index}]: '{key_id}' is not an API key of this organization",
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


async def _naming(ctx: Context, group_id: str) -> list[tuple[Policy, int, dict[str, Any]]]:
    """(policy, rule index, rule) for every rule of the organization's policies naming the group."""
    policies = await Policy.filter(organization_id=ctx.organization_id).order_by("created_at", "id")
    return [(p, i, rule) for p in policies for i, rule in enumerate(p.rules) if names_group(rule, group_id)]


async def _still_enough(ctx: Context, group: ReviewerGroup) -> None:
    naming = await _naming(ctx, group.id)
    if not naming:
        return
    directory = await Directory.load(ctx.organization_id)
    directory.groups[group.id] = group  # the new membership
    for policy, index, rule in naming:
        try:
            check_sizes(directory, rule, f"rules[{index}]")
        except Invalid as err:
            raise Conflict(f"policy {policy.id} ({policy.name}) needs more keys: {err.message}") from None


async def delete(ctx: Context, group_id: str) -> ReviewerGroup:
    """Delete a group no policy rule names (archived policies included: they may come back)."""
    require(ctx, "policies:write")
    async with atomic() as conn:
        group = await owned(ReviewerGroup, ctx, group_id, "reviewer group", conn=conn, lock=True)
        naming = await _naming(ctx, group.id)
        if naming:
            policy, index, _rule = naming[0]
            raise Conflict(f"reviewer group {group.id} ({group.name}) is named by policy {policy.id} "
                           f"({policy.name}) in rules[{index}]; change that rule first")
        await group.delete(using_db=conn)
        await emit(ctx.services, ctx.organization_id, "reviewer_group.deleted", event_data(group))
        await trail.record(ctx, "reviewer_group.deleted", group.id, trail.deleted(_audited(group)), conn)
    return group
