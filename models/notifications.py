"""Notices to connectors (Slack, email, Discord, a customer's API) that an action waits or was decided.

One row per (event, connector): written by the relay sink in the same transaction that marks the
event relayed, so a notice is never lost and never made twice; a worker leases due rows and sends
them through the connector, retrying with backoff. The row keeps the rendered input it sends.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

NOTIFICATION_STATUSES = ("pending", "sent", "failed")


class Notification(Model):
    """One notice of one action event to one connector, and where its delivery stands."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="notifications", on_delete=fields.CASCADE
    )
    organization_id: str
    action_id = fields.CharField(max_length=32)
    event_id = fields.CharField(max_length=32)
    event_type = fields.CharField(max_length=64)
    policy_id = fields.CharField(max_length=32)
    connector_id = fields.CharField(max_length=32)
    connector_action = fields.CharField(max_length=64)
    input: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    status = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    last_call_id = fields.CharField(max_length=32, null=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notifications"
        unique_together = (("event_id", "connector_id"),)
        indexes = (("status", "next_attempt_at"), ("organization_id", "action_id"))


from models.organizations import Organization  # noqa: E402
