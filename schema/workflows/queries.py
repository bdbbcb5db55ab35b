"""Queries: workflows, workflow(id), executions, execution(id)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers.workflows import executions, workflows
from schema.context import GraphQLContext
from schema.pagination import Connection
from schema.workflows.types import Execution, Workflow

Ctx = Info[GraphQLContext, None]


@strawberry.type
class WorkflowQueries:
    @strawberry.field(description="The organization's workflows (scope workflows:read).")
    async def workflows(self, info: Ctx, first: int = 50, after: str | None = None) -> Connection[Workflow]:
        page = await workflows.list_workflows(info.context.ctx, limit=first, cursor=after)
        return Connection.from_page(page, Workflow.from_row)

    @strawberry.field(description="One workflow with its definition.")
    async def workflow(self, info: Ctx, id: strawberry.ID) -> Workflow:
        return Workflow.from_row(await workflows.find(info.context.ctx, str(id)))

    @strawberry.field(description="Executions, newest first; of one workflow and/or in one status.")
    async def executions(
        self, info: Ctx, workflow_id: strawberry.ID | None = None, status: str | None = None, first: int = 50,
        after: str | None = None,
    ) -> Connection[Execution]:
        page = await executions.list_executions(info.context.ctx, workflow_id=str(workflow_id) if workflow_id else None,
                                                status=status, limit=first, cursor=after)
        return Connection.from_page(page, Execution.from_row)

    @strawberry.field(description="One execution with every step.")
    async def execution(self, info: Ctx, id: strawberry.ID) -> Execution:
        return Execution.from_row(await executions.get(info.context.ctx, str(id)))
