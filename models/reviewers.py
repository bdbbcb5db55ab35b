"""Reviewer groups: named sets of an organization's API keys that policy rules name as approvers."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ReviewerGroup(Model):
    """A team of approving keys. Rules refer to it by id (a name given in a rule is stored as the id)."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="reviewer_groups", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    members: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "reviewer_groups"
        unique_together = (("organization_id", "name"),)


from models.organizations import Organization  # noqa: E402
