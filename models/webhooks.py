"""Webhooks, their deliveries and each delivery's attempts.

Secrets are stored as given (they must be usable to sign) and are never returned after creation
or rotation. A delivery row is the unit of retry: its id is the delivery id sent on every attempt.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import PartialIndex
from tortoise.models import Model

DELIVERY_STATUSES = ("pending", "succeeded", "failed", "dead")


class Webhook(Model):
    """An organization's endpoint and the events it wants, with its health and signing secrets."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="webhooks", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    url = fields.CharField(max_length=2048)
    events: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    headers: dict[str, str] = fields.JSONField(default=dict)  # type: ignore[assignment]
    max_attempts = fields.IntField(null=True)
    backoff_ms = fields.IntField(null=True)
    active = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=500, null=True)
    consecutive_failures = fields.IntField(default=0)
    secret = fields.CharField(max_length=128)
    previous_secret = fields.CharField(max_length=128, null=True)
    previous_secret_expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhooks"
        indexes = (("organization_id", "active"),)


class WebhookDelivery(Model):
    """One event for one webhook: pending until an attempt succeeds or the retries run out."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="webhook_deliveries", on_delete=fields.CASCADE
    )
    organization_id: str
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    webhook_id: str
    event_id = fields.CharField(max_length=32)
    event_type = fields.CharField(max_length=64)
    payload = fields.TextField()  # the body exactly as sent: compact JSON, signed byte for byte
    status = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    attempt_log: fields.ReverseRelation[DeliveryAttempt]

    class Meta:
        table = "webhook_deliveries"
        # Only pending rows are due: a delivery leaves this index when it is done, and the index
        # stays the size of the backlog (the lease scans it), not of the history.
        indexes = (
            PartialIndex(fields=("next_attempt_at",), condition={"status": "pending"}, name="webhook_deliveries_due"),
            ("webhook_id", "created_at"),
        )


class DeliveryAttempt(Model):
    """What happened on one try: when, the answer's status, how long, the error, the answer's start."""

    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    delivery_id: str
    number = fields.IntField()
    attempted_at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    duration_ms = fields.IntField()
    error = fields.CharField(max_length=500, null=True)
    response_excerpt = fields.TextField(null=True)

    class Meta:
        table = "webhook_delivery_attempts"
        indexes = (("delivery_id", "number"),)


from models.organizations import Organization  # noqa: E402
