"""GraphQL types: workflows, executions and their steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from models.workflows import Execution as ExecutionRow
from models.workflows import ExecutionStep as StepRow
from models.workflows import Workflow as WorkflowRow
from resolvers.workflows.executions import steps_of


@strawberry.type
class Workflow:
    id: strawberry.ID
    name: str
    description: str | None
    is_public: bool
    definition: JSON
    trigger: JSON | None
    concurrency: int | None
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: WorkflowRow) -> Workflow:
        return cls(id=strawberry.ID(row.id), name=row.name, description=row.description, is_public=row.is_public,
                   definition=row.definition, trigger=row.trigger,  # type: ignore[arg-type]
                   concurrency=row.concurrency, version=row.version, created_at=row.created_at,
                   updated_at=row.updated_at)


@strawberry.type
class ExecutionStep:
    position: int
    name: str
    type: str
    status: str
    attempts: int
    input: JSON | None
    output: JSON | None
    error: str | None
    reused: bool
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: StepRow) -> ExecutionStep:
        return cls(position=row.position, name=row.name, type=row.type, status=row.status, attempts=row.attempts,
                   input=row.input, output=row.output, error=row.error, reused=row.reused,
                   started_at=row.started_at, finished_at=row.finished_at)


@strawberry.type
class Execution:
    id: strawberry.ID
    workflow_id: strawberry.ID
    status: str
    input: JSON | None
    output: JSON | None
    error: str | None
    trigger: JSON | None
    retry_of: strawberry.ID | None
    current_step: int
    started_at: datetime
    run_started_at: datetime | None
    finished_at: datetime | None
    steps: list[ExecutionStep]

    @classmethod
    def from_row(cls, row: ExecutionRow) -> Execution:
        values: dict[str, Any] = {
            "id": strawberry.ID(row.id), "workflow_id": strawberry.ID(row.workflow_id), "status": row.status,
            "input": row.input, "output": row.output, "error": row.error, "trigger": row.trigger,
            "retry_of": strawberry.ID(row.retry_of) if row.retry_of else None, "current_step": row.current_step,
            "started_at": row.created_at, "run_started_at": row.started_at, "finished_at": row.finished_at,
            "steps": [ExecutionStep.from_row(step) for step in steps_of(row)],
        }
        return cls(**values)


@strawberry.input
class CreateWorkflowInput:
    name: str
    definition: JSON
    description: str | None = None
    is_public: bool = False
    trigger: JSON | None = None
    concurrency: int | None = None


@strawberry.input
class UpdateWorkflowInput:
    name: str | None = strawberry.UNSET
    definition: JSON | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    is_public: bool | None = strawberry.UNSET
    trigger: JSON | None = strawberry.UNSET
    concurrency: int | None = strawberry.UNSET
