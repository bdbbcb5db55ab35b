"""Workflows, their versions, executions and each execution's steps.

Every save of a workflow's definition is a new version row; an execution points at the version it
started with, so a change made meanwhile never alters a run in flight. An execution is a durable
job: `claimed_until` is the lease of the worker running it and `lease` fences that worker's writes
(a worker whose lease was taken over can no longer checkpoint). `trigger_key` makes a trigger start
at most one execution per event.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

EXECUTION_STATUSES = ("pending", "running", "waiting", "completed", "failed", "cancelled")
FINISHED = ("completed", "failed", "cancelled")
STEP_STATUSES = ("pending", "running", "waiting", "completed", "failed", "skipped", "cancelled")


class Workflow(Model):
    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="workflows", on_delete=fields.CASCADE
    )
    organization_id: str
    name = fields.CharField(max_length=200)
    description: str | None = fields.TextField(null=True)  # type: ignore[assignment]
    is_public = fields.BooleanField(default=False)
    definition: dict[str, Any] = fields.JSONField(default=dict)  # type: ignore[assignment]
    trigger: dict[str, Any] | None = fields.JSONField(null=True)  # type: ignore[assignment]
    concurrency: int | None = fields.IntField(null=True)  # type: ignore[assignment]
    version = fields.IntField(default=1)
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "workflows"
        indexes = (("organization_id", "created_at"),)


class WorkflowVersion(Model):
    """A definition as it was saved: what executions started on it run."""

    id = fields.BigIntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "models.Workflow", related_name="versions", on_delete=fields.CASCADE
    )
    workflow_id: str
    number = fields.IntField()
    definition: dict[str, Any] = fields.JSONField()  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflow_versions"
        unique_together = (("workflow_id", "number"),)


class Execution(Model):
    id = fields.CharField(max_length=32, primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="executions", on_delete=fields.CASCADE
    )
    organization_id: str
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "models.Workflow", related_name="executions", on_delete=fields.CASCADE
    )
    workflow_id: str
    version: fields.ForeignKeyRelation[WorkflowVersion] = fields.ForeignKeyField(
        "models.WorkflowVersion", related_name="executions", on_delete=fields.CASCADE
    )
    version_id: int
    status = fields.CharField(max_length=16, default="pending")
    input: Any = fields.JSONField(default=dict)
    output: Any = fields.JSONField(null=True)
    error: str | None = fields.TextField(null=True)  # type: ignore[assignment]
    trigger: Any = fields.JSONField(null=True)
    trigger_key = fields.CharField(max_length=100, null=True, unique=True)
    retry_of = fields.CharField(max_length=32, null=True, unique=True)  # retried at most once (0024)
    # the execution whose ids the calls out's idempotency keys carry, NULL: its own; a retry's is its
    # chain's first run's (or a `fromStart` retry's), so a call the provider took is not made twice (0025)
    idempotency_root = fields.CharField(max_length=32, null=True)
    # how many executions precede it in its chain of triggers: 0 when a caller started it (or an event
    # no execution caused); the sink refuses a start past sink.MAX_TRIGGER_DEPTH, which would loop (0026)
    trigger_depth = fields.IntField(default=0)
    current_step = fields.IntField(default=0)
    next_run_at = fields.DatetimeField(null=True)
    claimed_until = fields.DatetimeField(null=True)
    lease = fields.IntField(default=0)
    waiting_action_id = fields.CharField(max_length=32, null=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    steps: fields.ReverseRelation[ExecutionStep]

    class Meta:
        table = "executions"
        indexes = (
            ("organization_id", "created_at"),
            ("workflow_id", "created_at"),
            ("status", "next_run_at"),  # the runner's claim: unfinished executions that are due
            ("waiting_action_id",),
        )


class ExecutionStep(Model):
    """One step of one execution: its resolved input (secrets redacted), output, attempts, error."""

    id = fields.BigIntField(primary_key=True)
    execution: fields.ForeignKeyRelation[Execution] = fields.ForeignKeyField(
        "models.Execution", related_name="steps", on_delete=fields.CASCADE
    )
    execution_id: str
    position = fields.IntField()
    name = fields.CharField(max_length=64)
    type = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    input: Any = fields.JSONField(null=True)
    output: Any = fields.JSONField(null=True)
    error: str | None = fields.TextField(null=True)  # type: ignore[assignment]
    reused = fields.BooleanField(default=False)  # copied from the execution this one retries
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "execution_steps"
        unique_together = (("execution_id", "position"),)


from models.organizations import Organization  # noqa: E402
