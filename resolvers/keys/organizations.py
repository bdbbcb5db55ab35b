"""Creating organizations: the operator's entry point (CLI), not exposed over the API."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.after_commit import atomic
from app.core.ids import new_id
from models.api_keys import ApiKey
from models.organizations import PLANS, Organization
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.keys.api_keys import CreatedKey, issue_key
from resolvers.validation import check_name


@dataclass(slots=True)
class CreatedOrganization:
    organization: Organization
    admin_key: CreatedKey


async def create_organization(name: str, plan: str = "free") -> CreatedOrganization:
    """A new organization with one admin key, whose secret is returned once."""
    name = check_name(name)
    if plan not in PLANS:
        raise Invalid(f"plan must be one of {', '.join(PLANS)}")
    async with atomic():
        org = await Organization.create(id=new_id("org"), name=name, plan=plan)
        key = await issue_key(org.id, name="admin", scopes=["admin"], rate_limit=None)
    return CreatedOrganization(org, key)


async def current(ctx: Context) -> tuple[Organization, ApiKey]:
    """The caller's organization and key, for `viewer`."""
    org = await Organization.get(id=ctx.organization_id)
    key = await ApiKey.get(id=ctx.key_id, organization_id=ctx.organization_id)
    return org, key
