"""Organizations: the tenant boundary every other row hangs from."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

PLANS = ("free", "pro", "enterprise")


class Organization(Model):
    """A customer: it owns keys, actions, policies, workflows and webhooks."""

    id = fields.CharField(max_length=32, primary_key=True)
    name = fields.CharField(max_length=200)
    plan = fields.CharField(max_length=16, default="free")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organizations"
