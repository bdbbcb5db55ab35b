"""Queries: workflows, workflow(id), executions, execution(id)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.workflows import executions, workflows
from schema.context import GraphQLContext
from schema.pagination import After, Connection, First
from schema.workflows.types import Execution, Workflow

Ctx = Info[GraphQLContext, None]
WorkflowId = Annotated[strawberry.ID, strawberry.argument(description="The workflow's id (`wf_...`).")]
ExecutionId = Annotated[strawberry.ID, strawberry.argument(description="The execution's id (`exec_...`).")]
WorkflowFilter = Annotated[strawberry.ID | None, strawberry.argument(description="Only executions of this workflow.")]
ExecutionStatusFilter = Annotated[str | None, strawberry.argument(
    description="Only executions in this status: an ExecutionStatus value (`pending`, `running`, `completed`, ...)."
)]


@strawberry.type
class WorkflowQueries:
    @strawberry.field(description="The organization's workflows, newest first (scope workflows:read).")
    async def workflows(self, info: Ctx, first: First = 50, after: After = None) -> Connection[Workflow]:
        page = await workflows.list_workflows(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Workflow.from_row)

    @strawberry.field(description="One workflow with its definition (scope workflows:read).")
    async def workflow(self, info: Ctx, id: WorkflowId) -> Workflow:
        return Workflow.from_row(await workflows.find(info.context.ctx, str(id)))

    @strawberry.field(description="Executions, newest first; of one workflow and/or in one status "
                      "(scope workflows:read).")
    async def executions(
        self, info: Ctx, workflow_id: WorkflowFilter = None, status: ExecutionStatusFilter = None, first: First = 50,
        after: After = None,
    ) -> Connection[Execution]:
        page = await executions.list_executions(info.context.ctx,  # "" names no workflow: NOT_FOUND, not every one
                                                workflow_id=None if workflow_id is None else str(workflow_id),
                                                status=status, limit=first, cursor=after)
        return Connection.from_page(page, Execution.from_row)

    @strawberry.field(description="One execution with every step (scope workflows:read).")
    async def execution(self, info: Ctx, id: ExecutionId) -> Execution:
        return Execution.from_row(await executions.get(info.context.ctx, str(id)))
