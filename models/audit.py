"""The audit trail: one append-only entry per change an organization makes or suffers.

An entry is written in the change's transaction without a chain position; the sealer
(resolvers/audit/sealer.py) later gives each organization's entries their position and hash in
order, so writers never queue behind one lock per organization. `AuditChain` holds each
organization's head (last sealed position and hash) and, once retention trimmed the oldest
entries, the anchor: the position and hash of the last entry removed, from which verify starts.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """Who changed what, when, from where: its chain position and hash are set once, by the sealer."""

    seq = fields.BigIntField(primary_key=True)
    id = fields.CharField(max_length=32, unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="audit_entries", on_delete=fields.CASCADE
    )
    organization_id: str
    type = fields.CharField(max_length=64)
    resource_id = fields.CharField(max_length=64, null=True)
    actor = fields.CharField(max_length=64)  # the key id, or `system:<job>` for the workers
    key_id = fields.CharField(max_length=32, null=True)
    agent_id = fields.CharField(max_length=32, null=True)
    changes: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    request_id = fields.CharField(max_length=64, null=True)
    client_address = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField()
    position = fields.BigIntField(null=True)
    hash = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_entries"
        unique_together = (("organization_id", "position"),)
        indexes = (("organization_id", "created_at", "id"),)


class AuditChain(Model):
    """An organization's chain: its sealed head and, after trimming, its anchor."""

    organization: fields.OneToOneRelation[Organization] = fields.OneToOneField(
        "models.Organization", related_name="audit_chain", on_delete=fields.CASCADE, primary_key=True
    )
    organization_id: str
    position = fields.BigIntField(default=0)
    hash = fields.CharField(max_length=64, null=True)
    anchor_position = fields.BigIntField(default=0)
    anchor_hash = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_chains"


from models.organizations import Organization  # noqa: E402
