"""Credentials (encrypted secrets), connector instances that use them, and each action call.

A credential's data is stored only as an AES-256-GCM token (`v1.<kid>.<nonce>.<ciphertext>`) sealed
with its organization and id as associated data; beside it, what a reader may see: the names of the
fields present, a fingerprint of the token and the key id. A call row records what happened, never
the input, the output or a secret.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

CREDENTIAL_TYPES = ("oauth", "api_key", "token", "basic", "custom")
CALL_STATUSES = ("succeeded", "failed")


class Credential(Model):
    """An organization's secret for one provider, sealed at rest."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="credentials", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    description: str | None = fields.TextField(null=True)  # type: ignore[assignment]
    type = fields.CharField(max_length=16)
    provider = fields.CharField(max_length=32)
    sealed = fields.TextField()  # the encryption token; never leaves the resolvers
    key_id = fields.CharField(max_length=32)
    fingerprint = fields.CharField(max_length=16)
    field_names: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    metadata: dict[str, object] = fields.JSONField(default=dict)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "credentials"
        indexes = (("organization_id", "created_at"), ("key_id",))


class Connector(Model):
    """A configured use of one connector type with one credential (e.g. "Production Slack")."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="connectors", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    type = fields.CharField(max_length=32)
    # NO ACTION: a credential in use cannot be deleted (the resolver answers 409 naming the instance)
    credential: fields.ForeignKeyNullableRelation[Credential] = fields.ForeignKeyField(
        "models.Credential", related_name="connectors", on_delete=fields.NO_ACTION, null=True
    )
    credential_id: str | None
    config: dict[str, object] = fields.JSONField(default=dict)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "connectors"
        indexes = (("organization_id", "created_at"),)


class ConnectorCall(Model):
    """One run of one action: when, by which key, how long, how it ended, and the provider's error if any."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="connector_calls", on_delete=fields.CASCADE
    )
    organization_id: str
    connector: fields.ForeignKeyRelation[Connector] = fields.ForeignKeyField(
        "models.Connector", related_name="calls", on_delete=fields.CASCADE
    )
    connector_id: str
    action = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16)
    duration_ms = fields.IntField()
    retryable = fields.BooleanField(default=False)
    provider_status = fields.IntField(null=True)
    error = fields.CharField(max_length=1000, null=True)
    # the API key that ran it directly (POST .../actions/{action}, runConnectorAction); NULL for a
    # workflow step's or a policy notification's call, whose execution or notification says who
    key_id = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "connector_calls"
        indexes = (("connector_id", "created_at"),)


from models.organizations import Organization  # noqa: E402
