"""GraphQL types for organizations, API keys and the viewer."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.api_keys import ApiKey as ApiKeyRow
from models.organizations import Organization as OrganizationRow


@strawberry.type
class Organization:
    id: strawberry.ID
    name: str
    plan: str

    @classmethod
    def from_row(cls, row: OrganizationRow) -> Organization:
        return cls(id=strawberry.ID(row.id), name=row.name, plan=row.plan)


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str
    scopes: list[str]
    rate_limit: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            prefix=row.display_prefix,
            scopes=list(row.scopes),
            rate_limit=row.rate_limit,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class Viewer:
    organization: Organization
    api_key: ApiKey


@strawberry.type
class CreatedApiKey:
    api_key: ApiKey
    secret: str = strawberry.field(description="The key itself: shown once, never again.")


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[str]
    rate_limit: int | None = None
