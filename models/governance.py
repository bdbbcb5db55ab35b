"""Governance rows: policies, proposed actions, their approvals, evidence and audit history.

An action keeps its current checks as JSON beside its status so that proposing one is a single
insert; every submitted check is also kept as its own evidence row, and every change of an action
appends a history row (the audit trail, never updated).
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Policy(Model):
    """Rules an organization applies to proposed actions. Archived policies are kept, not evaluated."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="policies", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    mode = fields.CharField(max_length=16, default="enforce")
    status = fields.CharField(max_length=16, default="active")
    rules: list[dict[str, Any]] = fields.JSONField(default=list)  # type: ignore[assignment]
    # connectors told when a matching action waits, escalates or is decided: [{connector, action, input}]
    notify: list[dict[str, Any]] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "policies"
        indexes = (("organization_id", "status"),)


class PolicyVersion(Model):
    """One state of a policy, written in the transaction of the create or update that made it; never
    changed. ``number`` is the policy's ``version`` then: an action records the versions that decided it
    (through its ``PolicySet``), and explain and diff read them long after the policy moved on."""

    id = fields.BigIntField(primary_key=True)
    organization_id = fields.CharField(max_length=32)
    policy: fields.ForeignKeyRelation[Policy] = fields.ForeignKeyField(
        "models.Policy", related_name="versions", on_delete=fields.CASCADE
    )
    policy_id: str
    number = fields.IntField()
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    mode = fields.CharField(max_length=16)
    status = fields.CharField(max_length=16)
    rules: list[dict[str, Any]] = fields.JSONField(default=list)  # type: ignore[assignment]
    notify: list[dict[str, Any]] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    created_at = fields.DatetimeField()
    created_by = fields.CharField(max_length=32, null=True)  # the API key that wrote it; null before versions

    class Meta:
        table = "policy_versions"
        unique_together = (("policy_id", "number"),)


class PolicySet(Model):
    """The exact active policy versions one compile of an organization's policies decided with, in
    policy order: ``[[policy id, version number], ...]``. Immutable; its id is a digest of its
    content, so it is written once per distinct set (on a compile, not per action) and an action
    points at it with one short column."""

    id = fields.CharField(max_length=40, primary_key=True)
    organization_id = fields.CharField(max_length=32)
    versions: list[list[Any]] = fields.JSONField(default=list)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "policy_sets"


class Action(Model):
    """A proposed action, the decision on it and who made it (checks are the live state)."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="actions", on_delete=fields.CASCADE
    )
    organization_id: str
    type = fields.CharField(max_length=200)
    actor_kind = fields.CharField(max_length=100)
    actor_name = fields.CharField(max_length=200, null=True)
    actor_provider = fields.CharField(max_length=200, null=True)
    actor_verified = fields.BooleanField(default=False, db_default=False)  # proposed with a key bound to the agent
    target = fields.TextField(null=True)
    params: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    status = fields.CharField(max_length=32)
    policy_ids: list[str] = fields.JSONField(default=list)  # type: ignore[assignment]
    checks: list[dict[str, Any]] = fields.JSONField(default=list)  # type: ignore[assignment]
    observed: list[dict[str, Any]] = fields.JSONField(default=list)  # type: ignore[assignment]
    approval_mode = fields.CharField(max_length=16, null=True)
    expires_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    decided_by = fields.CharField(max_length=200, null=True)
    reason = fields.TextField(null=True)
    client_ref = fields.CharField(max_length=200, null=True)
    client_timestamp = fields.CharField(max_length=64, null=True)
    agent_id = fields.CharField(max_length=200, null=True)
    idempotency_key = fields.CharField(max_length=255, null=True)
    request_hash = fields.CharField(max_length=64, null=True)
    metadata: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    grant_consumed_at = fields.DatetimeField(null=True)  # its single-use grant was used (governance/grants.py)
    grant_consumed_by = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # review (issue 14): how humans decide it, who proposed it, approvals so far, the params as proposed
    proposed_by = fields.CharField(max_length=32, null=True)
    review: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    votes: list[dict[str, Any]] | None = fields.JSONField(null=True, default=list)  # type: ignore[assignment]
    original_params: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    escalated_at = fields.DatetimeField(null=True)
    # the active policy versions it was decided with (models.PolicySet); null when no policy decided it
    policy_set_id = fields.CharField(max_length=40, null=True)

    class Meta:
        table = "actions"
        unique_together = (("organization_id", "idempotency_key"),)
        # the last one serves the newest-first list: without it every page sorted all the organization's actions
        indexes = (
            ("organization_id", "status", "created_at"),
            ("status", "expires_at"),
            ("organization_id", "created_at", "id"),
            ("organization_id", "agent_id", "created_at", "id"),
        )


class Approval(Model):
    """The human decision an action in pending_approval waits for (one per action)."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="approvals", on_delete=fields.CASCADE
    )
    organization_id: str
    action: fields.OneToOneRelation[Action] = fields.OneToOneField(
        "models.Action", related_name="approval", on_delete=fields.CASCADE
    )
    action_id: str
    status = fields.CharField(max_length=16, default="pending")
    decided_by = fields.CharField(max_length=32, null=True)
    approver = fields.CharField(max_length=200, null=True)
    reason = fields.TextField(null=True)
    comment = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "approvals"
        indexes = (("organization_id", "status", "created_at"),)


class EvidenceCheck(Model):
    """One submitted check result, as sent (with its free-form meta)."""

    id = fields.BigIntField(primary_key=True)
    organization_id = fields.CharField(max_length=32)
    action: fields.ForeignKeyRelation[Action] = fields.ForeignKeyField(
        "models.Action", related_name="evidence", on_delete=fields.CASCADE
    )
    action_id: str
    name = fields.CharField(max_length=200)
    passed = fields.BooleanField()
    note = fields.TextField(null=True)
    meta: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    submitted_by = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "action_evidence"


class ActionHistory(Model):
    """Append-only audit trail of an action: proposed, evidence added, approved by X, expired."""

    id = fields.CharField(max_length=32, primary_key=True)
    organization_id = fields.CharField(max_length=32)
    action: fields.ForeignKeyRelation[Action] = fields.ForeignKeyField(
        "models.Action", related_name="history", on_delete=fields.CASCADE
    )
    action_id: str
    kind = fields.CharField(max_length=32)
    status = fields.CharField(max_length=32)
    by = fields.CharField(max_length=200, null=True)
    detail: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "action_history"
        indexes = (("action_id", "created_at"),)


class QuotaUsage(Model):
    """Actions proposed by one organization in one calendar month (UTC), counted atomically."""

    id = fields.BigIntField(primary_key=True)
    organization_id = fields.CharField(max_length=32)
    month = fields.CharField(max_length=7)
    used = fields.IntField(default=0)

    class Meta:
        table = "quota_usage"
        unique_together = (("organization_id", "month"),)


from models.organizations import Organization  # noqa: E402
