"""Agents: the registered identities that propose actions, with their live counts.

The four counts are kept on the row and changed in the same statement or transaction as the action
they count (a proposal, a decision, an expiry), so reading them never recounts actions and they stay
exact under concurrency: each change is one `SET n = n + 1` under PostgreSQL's row lock.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Agent(Model):
    """One agent of an organization, kept when disabled (the kill switch), never deleted."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="agents", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    status = fields.CharField(max_length=16, default="active")
    config: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    proposals_per_minute = fields.IntField(null=True)
    total_actions = fields.IntField(default=0)
    approved_actions = fields.IntField(default=0)
    blocked_actions = fields.IntField(default=0)
    pending_actions = fields.IntField(default=0)
    last_seen_at = fields.DatetimeField(null=True)
    last_action_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "agents"
        unique_together = (("organization_id", "slug"),)
        indexes = (("organization_id", "created_at", "id"),)


from models.organizations import Organization  # noqa: E402
