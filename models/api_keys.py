"""API keys: stored only as a hash; the secret is shown once at creation."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ApiKey(Model):
    """One organization's credential, with scopes and its own rate limit."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="api_keys", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    key_hash = fields.CharField(max_length=64, unique=True)
    display_prefix = fields.CharField(max_length=16)
    scopes: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    rate_limit = fields.IntField(null=True)
    agent_id = fields.CharField(max_length=32, null=True)  # bound to one agent: it proposes as that agent only
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_keys"


from models.organizations import Organization  # noqa: E402
