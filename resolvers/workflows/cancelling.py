"""Cancelling executions, one (executions.cancel) or every unfinished one of a deleted workflow
(workflows.delete): the same writes, audit entry and event either way, in the caller's transaction.
An execution inserted by a start that read its workflow just before the delete committed escapes
that delete; the runner cancels it, the same way, before its first step (`cancel_if_orphaned`).

Cancelling marks the execution and its unfinished steps cancelled and bumps its lease (the worker
holding it can no longer checkpoint), withdraws the action its approval step waits for, and tells
the runners at commit, so the one holding it interrupts the running call at once.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from app.core.after_commit import atomic, on_commit
from app.core.clock import utcnow
from models.workflows import Execution, ExecutionStep, Workflow
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.events.outbox import emit
from resolvers.governance.cancelling import withdraw_waited
from resolvers.workflows import hints
from resolvers.workflows.leases import UNFINISHED

# PostgreSQL's: a new execution's start hint, or a cancelled one's notice (settings.workflow_wake):
# Redis away cannot delay a cancel to the next lease renewal (10 s)
NOTIFY_CHANNEL = "gatehouse_workflows_wake"
CANCEL_CHANNEL = "gatehouse:workflows:cancel"


async def cancel_locked(ctx: Context, execution: Execution, conn: BaseDBAsyncClient, error: str | None = None) -> None:
    """Cancel `execution`, unfinished and row-locked by the caller's transaction `conn`; `error`
    says why when the caller is not the one who asked for it (its workflow was deleted)."""
    now = utcnow()
    changed: dict[str, Any] = {"error": error} if error is not None else {}
    await Execution.filter(id=execution.id).using_db(conn).update(
        status="cancelled", finished_at=now, claimed_until=None, next_run_at=None, lease=execution.lease + 1,
        updated_at=now, **changed)
    await ExecutionStep.filter(execution_id=execution.id, status__in=UNFINISHED).using_db(
        conn).update(status="cancelled", finished_at=now)
    if execution.waiting_action_id is not None:  # its approval step's action, if still undecided
        await withdraw_waited(ctx, execution.waiting_action_id, execution.id, conn)
    changes = {"before": {"status": execution.status}, "after": {"status": "cancelled"}}
    await trail.record(ctx, "execution.cancelled", execution.id, changes, conn)
    await emit(ctx.services, ctx.organization_id, "workflow.cancelled",
               {"workflowId": execution.workflow_id, "executionId": execution.id, "status": "cancelled"})

    if ctx.settings.wakes_by_notify:  # delivered at commit
        await conn.execute_query("SELECT pg_notify($1, $2)", [NOTIFY_CHANNEL, hints.cancel_notice(execution.id)])

    async def interrupt() -> None:  # the bus too: runners of `workflow_wake = bus` hear only it
        await ctx.services.bus.publish(CANCEL_CHANNEL, execution.id.encode())

    on_commit(interrupt)


async def cancel_unfinished(ctx: Context, workflow_id: str, conn: BaseDBAsyncClient, error: str) -> int:
    """Cancel every unfinished execution of the workflow, in the caller's transaction; how many."""
    held = await Execution.filter(workflow_id=workflow_id, organization_id=ctx.organization_id,
                                  status__in=UNFINISHED).select_for_update().using_db(conn).order_by("created_at")
    for execution in held:
        await cancel_locked(ctx, execution, conn, error)
    return len(held)


def deleted_error(workflow_id: str) -> str:
    """Why an execution of a deleted workflow was cancelled."""
    return f"its workflow {workflow_id} was deleted"


async def cancel_if_orphaned(ctx: Context, execution: Execution, workflow_deleted: bool | None) -> bool:
    """Cancel `execution`, never started, if its workflow was deleted meanwhile, as deleting it does
    (`cancel_unfinished`); whether it was. An execute or a trigger that read the workflow just before
    a delete committed inserts an execution that delete did not see: without this it ran.
    `workflow_deleted` is what the claim read (PostgreSQL's claim joins the workflow); None reads it
    here. Read here on every claim, it cost figure 7's runner 1,153-1,223 us of CPU per execution
    against 860-920 us without it (three rounds each), and 575 executions/s against 705."""
    if workflow_deleted is None:
        workflow_deleted = await Workflow.filter(id=execution.workflow_id, deleted_at__isnull=False).exists()
    if not workflow_deleted:
        return False
    async with atomic() as conn:
        held = await Execution.filter(id=execution.id, status__in=UNFINISHED).select_for_update().using_db(
            conn).first()
        if held is None:
            return False
        await cancel_locked(ctx, held, conn, deleted_error(held.workflow_id))
    return True
