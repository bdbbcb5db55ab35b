"""GraphQL types for organizations, API keys and the viewer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.api_keys import ApiKey as ApiKeyRow
from models.organizations import Organization as OrganizationRow
from schema.enums import Plan
from schema.node import Node


@strawberry.type(description="A customer of Gatehouse: every object belongs to one organization.")
class Organization(Node):
    id: strawberry.ID = strawberry.field(description="The organization's id (`org_...`).")
    name: str = strawberry.field(description="Its name.")
    plan: Plan = strawberry.field(description="Its plan, which sets its monthly quota of actions.")

    @classmethod
    def from_row(cls, row: OrganizationRow) -> Organization:
        return cls(id=strawberry.ID(row.id), name=row.name, plan=Plan(row.plan))


@strawberry.type(description="An API key of the organization; its secret is never shown again after creation.")
class ApiKey(Node):
    id: strawberry.ID = strawberry.field(description="The key's id (`key_...`).")
    name: str = strawberry.field(description="Its name.")
    prefix: str = strawberry.field(description="The start of its secret, to recognise it by.")
    scopes: list[str] = strawberry.field(
        description="What it may do, as strings such as `actions:write` (the values of the Scope enum)."
    )
    rate_limit: int | None = strawberry.field(description="Its requests per minute; null for the default.")
    agent_id: str | None = strawberry.field(description="The agent it is bound to (it proposes as that agent only "
                                                        "and never approves or rejects); null when unbound.")
    created_at: datetime = strawberry.field(description="When it was created.")
    last_used_at: datetime | None = strawberry.field(description="When it was last used, if ever.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; null while it works.")

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            prefix=row.display_prefix,
            scopes=list(row.scopes),
            rate_limit=row.rate_limit,
            agent_id=row.agent_id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="Who is calling: the organization and the API key of the request.")
class Viewer:
    organization: Organization = strawberry.field(description="The calling organization.")
    api_key: ApiKey = strawberry.field(description="The API key the request carries.")


@strawberry.type(description="A new API key and its secret.")
class CreatedApiKey:
    api_key: ApiKey = strawberry.field(description="The new key.")
    secret: str = strawberry.field(description="The key itself: shown once, never again.")


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="Its name.")
    scopes: list[str] = strawberry.field(
        description="What it may do, as strings such as `actions:write` (the values of the Scope enum)."
    )
    rate_limit: int | None = strawberry.field(default=None, description="Requests per minute; the default when "
                                                                        "left out.")
    agent_id: str | None = strawberry.field(default=None, description="Bind the key to this agent (`agt_...`): it "
                                                                      "proposes as that agent only and never governs "
                                                                      "(VALIDATION_ERROR with admin, agents:write, "
                                                                      "policies:write or approvals:write).")
