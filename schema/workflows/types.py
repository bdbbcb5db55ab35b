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
from schema.enums import ExecutionStatus, StepStatus, StepType
from schema.node import Node


@strawberry.type(description="Ordered steps that call real systems, run on request or on an event.")
class Workflow(Node):
    id: strawberry.ID = strawberry.field(description="The workflow's id (`wf_...`).")
    name: str = strawberry.field(description="Its name.")
    description: str | None = strawberry.field(description="What it does.")
    is_public: bool = strawberry.field(description="Whether it is listed as public.")
    definition: JSON = strawberry.field(description="Its definition: `{steps: [{name, type, config}]}`.")
    trigger: JSON | None = strawberry.field(description="The event that runs it, e.g. `{event: action.approved, "
                                                        "actionType: ...}`; null when only run on request.")
    concurrency: int | None = strawberry.field(description="How many of its executions may run at once; null for "
                                                           "no limit.")
    version: int = strawberry.field(description="Goes up with every new definition.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def from_row(cls, row: WorkflowRow) -> Workflow:
        return cls(id=strawberry.ID(row.id), name=row.name, description=row.description, is_public=row.is_public,
                   definition=row.definition, trigger=row.trigger,  # type: ignore[arg-type]
                   concurrency=row.concurrency, version=row.version, created_at=row.created_at,
                   updated_at=row.updated_at)


@strawberry.type(description="One step of an execution: its rendered input, output, attempts and error.")
class ExecutionStep:
    position: int = strawberry.field(description="Its position in the definition, from 0.")
    name: str = strawberry.field(description="Its name in the definition.")
    type: StepType = strawberry.field(description="What it does.")
    status: StepStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    input: JSON | None = strawberry.field(description="Its config with the templates rendered.")
    output: JSON | None = strawberry.field(description="What it produced, once completed.")
    error: str | None = strawberry.field(description="Why its last attempt failed, if it did.")
    reused: bool = strawberry.field(description="True when a retry kept this step's earlier result.")
    started_at: datetime | None = strawberry.field(description="When it first started.")
    finished_at: datetime | None = strawberry.field(description="When it finished.")

    @classmethod
    def from_row(cls, row: StepRow) -> ExecutionStep:
        return cls(position=row.position, name=row.name, type=StepType(row.type), status=StepStatus(row.status),
                   attempts=row.attempts, input=row.input, output=row.output, error=row.error, reused=row.reused,
                   started_at=row.started_at, finished_at=row.finished_at)


@strawberry.type(description="One run of a workflow, on the definition it started with.")
class Execution(Node):
    id: strawberry.ID = strawberry.field(description="The execution's id (`exec_...`).")
    workflow_id: strawberry.ID = strawberry.field(description="The workflow's id.")
    status: ExecutionStatus = strawberry.field(description="Where it stands.")
    input: JSON | None = strawberry.field(description="The input it was given.")
    output: JSON | None = strawberry.field(description="Its output, once completed.")
    error: str | None = strawberry.field(description="Why it failed, if it did.")
    trigger: JSON | None = strawberry.field(description="The event that started it; null when run on request.")
    retry_of: strawberry.ID | None = strawberry.field(description="The execution it retries, if any.")
    trigger_depth: int = strawberry.field(description=(
        "How many executions precede it in its chain of triggers: 0 when run on request or started by an "
        "event no execution caused; a trigger does not start one deeper than 8."))
    current_step: int = strawberry.field(description="The position of the step it is at (or will run next).")
    started_at: datetime = strawberry.field(description="When it was queued.")
    run_started_at: datetime | None = strawberry.field(description="When a worker started running it.")
    finished_at: datetime | None = strawberry.field(description="When it completed, failed or was cancelled.")
    steps: list[ExecutionStep] = strawberry.field(description="Its steps so far, in order.")

    @classmethod
    def from_row(cls, row: ExecutionRow) -> Execution:
        values: dict[str, Any] = {
            "id": strawberry.ID(row.id), "workflow_id": strawberry.ID(row.workflow_id),
            "status": ExecutionStatus(row.status), "input": row.input, "output": row.output, "error": row.error,
            "trigger": row.trigger, "retry_of": strawberry.ID(row.retry_of) if row.retry_of else None,
            "trigger_depth": row.trigger_depth,
            "current_step": row.current_step, "started_at": row.created_at, "run_started_at": row.started_at,
            "finished_at": row.finished_at, "steps": [ExecutionStep.from_row(step) for step in steps_of(row)],
        }
        return cls(**values)


@strawberry.input(description="A new workflow.")
class CreateWorkflowInput:
    name: str = strawberry.field(description="Its name.")
    definition: JSON = strawberry.field(description="Its definition: `{steps: [{name, type, config}]}`.")
    description: str | None = strawberry.field(default=None, description="What it does.")
    is_public: bool = strawberry.field(default=False, description="Whether it is listed as public.")
    trigger: JSON | None = strawberry.field(default=None, description="The event that runs it; left out to run it "
                                                                      "only on request.")
    concurrency: int | None = strawberry.field(default=None, description="How many executions may run at once; "
                                                                         "no limit when left out.")


@strawberry.input(description="The fields of a workflow to change; those left out keep their value.")
class UpdateWorkflowInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="A new name.")
    definition: JSON | None = strawberry.field(default=strawberry.UNSET, description="A new definition: a new "
                                                                                     "version.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="A new description.")
    is_public: bool | None = strawberry.field(default=strawberry.UNSET, description="Whether it is listed as public.")
    trigger: JSON | None = strawberry.field(default=strawberry.UNSET, description="A new trigger; null removes it.")
    concurrency: int | None = strawberry.field(default=strawberry.UNSET, description="A new limit; null removes it.")
