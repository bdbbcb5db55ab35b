"""REST: /api/v1/workflows and /api/v1/executions (document 002)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.clock import isoformat_z
from app.rest.lists import ListQuery, list_response
from app.rest.routing import RestCall, endpoint
from models.workflows import Execution, ExecutionStep, Workflow
from resolvers.workflows import executions, workflows
from resolvers.workflows.executions import steps_of
from resolvers.workflows.workflows import WorkflowSpec

TAGS = ["workflows"]
STEPS_SCOPE = ('{"steps": [{name, type, config}]}; a connector step, or an http_request step with a credentialId, '
               "needs the scope connectors:write too (403)")


class UpdateWorkflowBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    definition: dict[str, Any] | None = Field(None, description=STEPS_SCOPE)
    isPublic: bool | None = None
    trigger: dict[str, Any] | None = Field(
        None, description='e.g. {"event": "action.approved", "actionType": "delete_*"}')
    concurrency: int | None = Field(None, ge=1, le=1000, description="most executions of this workflow at once")


class CreateWorkflowBody(UpdateWorkflowBody):
    name: str = Field(min_length=1, max_length=200)  # type: ignore[assignment]
    definition: dict[str, Any] = Field(description=STEPS_SCOPE)  # type: ignore[assignment]


class ExecuteBody(BaseModel):
    """`input` left out or null runs with `{}`, as GraphQL's `executeWorkflow(input: null)` does: document
    002's snippets send `{"input": null}` when called without input."""

    model_config = ConfigDict(extra="forbid")
    input: dict[str, Any] | None = None


class ExecutionCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["cancel", "retry"]
    fromStart: bool = False


class ExecutionQuery(ListQuery):
    status: str | None = None


class WorkflowSummaryOut(BaseModel):
    id: str
    name: str
    description: str | None
    isPublic: bool
    trigger: dict[str, Any] | None
    version: int
    createdAt: str
    updatedAt: str


class WorkflowOut(WorkflowSummaryOut):
    definition: dict[str, Any]
    concurrency: int | None


class ExecutionStartedOut(BaseModel):
    executionId: str
    status: str
    startedAt: str


class StepOut(BaseModel):
    position: int
    name: str
    type: str
    status: str
    attempts: int
    input: Any
    output: Any
    error: str | None
    reused: bool
    startedAt: str | None
    finishedAt: str | None


class ExecutionOut(BaseModel):
    id: str
    workflowId: str
    status: str
    input: Any
    output: Any
    error: str | None
    trigger: Any
    retryOf: str | None
    triggerDepth: int
    currentStep: int
    startedAt: str
    runStartedAt: str | None
    finishedAt: str | None
    steps: list[StepOut]


def spec_of(body: UpdateWorkflowBody) -> WorkflowSpec:
    names = {"name": "name", "description": "description", "definition": "definition", "isPublic": "is_public",
             "trigger": "trigger", "concurrency": "concurrency"}
    return WorkflowSpec(**{names[field]: getattr(body, field) for field in body.model_fields_set})


def serialise_summary(row: Workflow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description, "isPublic": row.is_public,
            "trigger": row.trigger, "version": row.version, "createdAt": isoformat_z(row.created_at),
            "updatedAt": isoformat_z(row.updated_at)}


def serialise_workflow(row: Workflow) -> dict[str, Any]:
    return {**serialise_summary(row), "definition": row.definition, "concurrency": row.concurrency}


def serialise_step(row: ExecutionStep) -> dict[str, Any]:
    return {"position": row.position, "name": row.name, "type": row.type, "status": row.status,
            "attempts": row.attempts, "input": row.input, "output": row.output, "error": row.error,
            "reused": row.reused, "startedAt": isoformat_z(row.started_at), "finishedAt": isoformat_z(row.finished_at)}


def serialise_execution(row: Execution) -> dict[str, Any]:
    return {"id": row.id, "workflowId": row.workflow_id, "status": row.status, "input": row.input,
            "output": row.output, "error": row.error, "trigger": row.trigger, "retryOf": row.retry_of,
            "triggerDepth": row.trigger_depth, "currentStep": row.current_step,
            "startedAt": isoformat_z(row.created_at),
            "runStartedAt": isoformat_z(row.started_at), "finishedAt": isoformat_z(row.finished_at),
            "steps": [serialise_step(step) for step in steps_of(row)]}


@endpoint("GET", "/workflows", summary="List workflows", tags=TAGS, query=ListQuery,
          scopes=("workflows:read",), response=list[WorkflowSummaryOut])
async def list_workflows(call: RestCall) -> Any:
    page = await workflows.list_workflows(call.ctx, limit=call.query.limit, cursor=call.query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_summary)


@endpoint("POST", "/workflows", summary="Create a workflow", tags=TAGS, body=CreateWorkflowBody,
          scopes=("workflows:write",), response=WorkflowOut, status=201)
async def create_workflow(call: RestCall) -> dict[str, Any]:
    return serialise_workflow(await workflows.create(call.ctx, spec_of(call.body)))


@endpoint("GET", "/workflows/{id}", summary="Get a workflow with its definition", tags=TAGS, response=WorkflowOut)
async def get_workflow(call: RestCall) -> dict[str, Any]:
    return serialise_workflow(await workflows.find(call.ctx, call.path["id"]))


@endpoint("PUT", "/workflows/{id}", summary="Update a workflow (a new definition is a new version)", tags=TAGS,
          body=UpdateWorkflowBody, scopes=("workflows:write",), response=WorkflowOut)
async def update_workflow(call: RestCall) -> dict[str, Any]:
    return serialise_workflow(await workflows.update(call.ctx, call.path["id"], spec_of(call.body)))


@endpoint("DELETE", "/workflows/{id}",
          summary="Delete a workflow (its unfinished executions are cancelled; all stay readable)", tags=TAGS,
          response=WorkflowOut)
async def delete_workflow(call: RestCall) -> dict[str, Any]:
    return serialise_workflow(await workflows.delete(call.ctx, call.path["id"]))


@endpoint("POST", "/workflows/{id}/execute", summary="Execute a workflow (answers at once; workers run it)",
          tags=TAGS, body=ExecuteBody, scopes=("workflows:write",), response=ExecutionStartedOut, status=202)
async def execute_workflow(call: RestCall) -> dict[str, Any]:
    execution = await executions.execute(call.ctx, call.path["id"], call.body.input)
    return {"executionId": execution.id, "status": execution.status, "startedAt": isoformat_z(execution.created_at)}


@endpoint("GET", "/workflows/{id}/executions", summary="A workflow's executions, newest first", tags=TAGS,
          query=ExecutionQuery, scopes=("workflows:read",), response=list[ExecutionOut])
async def list_workflow_executions(call: RestCall) -> Any:
    query: ExecutionQuery = call.query
    page = await executions.list_executions(call.ctx, workflow_id=call.path["id"], status=query.status,
                                            limit=query.limit, cursor=query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_execution)


@endpoint("GET", "/executions", summary="Executions, newest first (?status=)", tags=TAGS, query=ExecutionQuery,
          scopes=("workflows:read",), response=list[ExecutionOut])
async def list_executions(call: RestCall) -> Any:
    query: ExecutionQuery = call.query
    page = await executions.list_executions(call.ctx, status=query.status, limit=query.limit, cursor=query.cursor)
    return list_response(call.request, page.items, page.next_cursor, serialise_execution)


@endpoint("GET", "/executions/{id}", summary="An execution with every step", tags=TAGS, response=ExecutionOut)
async def get_execution(call: RestCall) -> dict[str, Any]:
    return serialise_execution(await executions.get(call.ctx, call.path["id"]))


@endpoint("POST", "/executions/{id}", summary='Cancel ({"action": "cancel"}) or retry ({"action": "retry"}) '
          "an execution; an execution is retried at most once (409 after: retry its retry)", tags=TAGS,
          body=ExecutionCommand, scopes=("workflows:write",), response=ExecutionOut, errors=(409,))
async def command_execution(call: RestCall) -> dict[str, Any]:
    body: ExecutionCommand = call.body
    if body.action == "cancel":
        return serialise_execution(await executions.cancel(call.ctx, call.path["id"]))
    return serialise_execution(await executions.retry(call.ctx, call.path["id"], from_start=body.fromStart))
