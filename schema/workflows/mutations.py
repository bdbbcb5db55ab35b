"""Mutations: create, update, delete and execute workflows; cancel and retry executions."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from resolvers.workflows import executions, workflows
from resolvers.workflows.workflows import WorkflowSpec
from schema.context import GraphQLContext
from schema.workflows.types import CreateWorkflowInput, Execution, UpdateWorkflowInput, Workflow

Ctx = Info[GraphQLContext, None]
WorkflowId = Annotated[strawberry.ID, strawberry.argument(description="The workflow's id (`wf_...`).")]
ExecutionId = Annotated[strawberry.ID, strawberry.argument(description="The execution's id (`exec_...`).")]
_FIELDS = ("name", "definition", "description", "is_public", "trigger", "concurrency")


def spec_of(data: CreateWorkflowInput | UpdateWorkflowInput) -> WorkflowSpec:
    given: dict[str, Any] = {name: getattr(data, name) for name in _FIELDS
                             if getattr(data, name) is not strawberry.UNSET}
    return WorkflowSpec(**given)


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation(description="Create a workflow (version 1; scope workflows:write, and connectors:write "
                         "for a connector step or an http_request step with a credentialId).")
    async def create_workflow(
        self, info: Ctx, input: Annotated[CreateWorkflowInput, strawberry.argument(description="The new workflow.")]
    ) -> Workflow:
        return Workflow.from_row(await workflows.create(info.context.ctx, spec_of(input)))

    @strawberry.mutation(description="Change the fields given; a new definition is a new version "
                         "(scope workflows:write, and connectors:write for a definition with a connector step "
                         "or an http_request step with a credentialId).")
    async def update_workflow(
        self, info: Ctx, id: WorkflowId,
        input: Annotated[UpdateWorkflowInput, strawberry.argument(description="The fields to change.")],
    ) -> Workflow:
        return Workflow.from_row(await workflows.update(info.context.ctx, str(id), spec_of(input)))

    @strawberry.mutation(description="Delete a workflow: its unfinished executions are cancelled; all of them stay "
                         "readable (scope workflows:write).")
    async def delete_workflow(self, info: Ctx, id: WorkflowId) -> Workflow:
        return Workflow.from_row(await workflows.delete(info.context.ctx, str(id)))

    @strawberry.mutation(description="Queue an execution; answers at once with status pending (scope workflows:write).")
    async def execute_workflow(
        self, info: Ctx, id: WorkflowId,
        input: Annotated[JSON | None, strawberry.argument(description="The input its templates read as "
                                                                      "`{{ input.x }}`.")] = None,
    ) -> Execution:
        return Execution.from_row(await executions.execute(info.context.ctx, str(id), input))

    @strawberry.mutation(description="Cancel an execution: its running call is interrupted at once "
                         "(scope workflows:write).")
    async def cancel_execution(self, info: Ctx, id: ExecutionId) -> Execution:
        return Execution.from_row(await executions.cancel(info.context.ctx, str(id)))

    @strawberry.mutation(description="Re-run a failed or cancelled execution from its failed step or the start (scope "
                                     "workflows:write). An execution is retried at most once: CONFLICT after, "
                                     "naming its retry.")
    async def retry_execution(
        self, info: Ctx, id: ExecutionId,
        from_start: Annotated[bool, strawberry.argument(description="Run every step again instead of resuming at "
                                                                    "the failed one.")] = False,
    ) -> Execution:
        return Execution.from_row(await executions.retry(info.context.ctx, str(id), from_start=from_start))
