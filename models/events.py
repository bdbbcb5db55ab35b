"""The outbox: every state change writes its event here in the same transaction."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Event(Model):
    """One event of the catalogue, `seq` orders events for relays and replays."""

    seq = fields.BigIntField(primary_key=True)
    id = fields.CharField(max_length=32, unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="events", on_delete=fields.CASCADE
    )
    organization_id: str
    type = fields.CharField(max_length=64)
    data: dict = fields.JSONField()  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    relayed_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "events"
        indexes = (("organization_id", "seq"),)


from models.organizations import Organization  # noqa: E402
