"""Executions: start one, read them, cancel one, retry one.

`execute` answers at once (`pending`); the runner does the work. Cancelling marks the execution
cancelled in the database and tells the worker holding it to interrupt the running call at once.
Retrying a failed or cancelled execution starts a new one linked to it, on the same version, that
reuses the outputs of the steps the old one completed and calls out with its idempotency keys (or,
`fromStart`, neither); an execution is retried at most once (the retry may be retried in turn).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.fields.data import JSON_DUMPS

from app.core.after_commit import atomic, on_commit
from app.core.clock import utcnow
from app.core.ids import new_id
from models.db import connection_for_one_statement, pg_fetch
from models.workflows import FINISHED, Execution, ExecutionStep, Workflow, WorkflowVersion
from resolvers.access import require
from resolvers.audit import trail
from resolvers.context import Context, Services
from resolvers.errors import Conflict, Invalid, NotFound
from resolvers.lookup import lookup_id, owned
from resolvers.pagination import Page, paginate
from resolvers.validation import check_storable
from resolvers.workflows import hints
from resolvers.workflows.cancelling import NOTIFY_CHANNEL, cancel_locked
from resolvers.workflows.workflows import current_version, find

WAKE_CHANNEL = "gatehouse:workflows:wake"
MAX_INPUT_BYTES = 262_144
_log = logging.getLogger("gatehouse.workflows")


def wake_runners(services: Services) -> None:
    """After commit: tell the runners there is work, so they need not wait for their next poll."""

    async def wake() -> None:
        await publish_wake(services)

    on_commit(wake)


async def publish_wake(services: Services, execution: Execution | None = None) -> None:
    """Tell the runners now (the work is committed already); a lost wake costs their poll interval.
    A new `execution` is named in the wake, with what its first step needs (hints.py)."""
    try:
        await services.bus.publish(WAKE_CHANNEL, hints.encode(execution))
    except Exception:
        _log.exception("workflow wake failed; the runners' poll picks the work up")


def _checked_input(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("input must be an object")
    if len(orjson.dumps(value)) > MAX_INPUT_BYTES:
        raise Invalid(f"input must be at most {MAX_INPUT_BYTES} bytes as JSON")
    check_storable(value, "input")
    return value


def new_execution(workflow: Workflow, version: WorkflowVersion, given: Any, **fields: Any) -> Execution:
    now = utcnow()
    return Execution(id=new_id("exec"), organization_id=workflow.organization_id, workflow_id=workflow.id,
                     version_id=version.id, status="pending", input=given, next_run_at=now, **fields)


async def execute(ctx: Context, workflow_id: str, given: Any) -> Execution:
    """Queue a run of the workflow's current version (scope workflows:write, checked before the
    input: a key without it gets 403 whatever it sent)."""
    require(ctx, "workflows:write")
    given = _checked_input(given)
    conn = connection_for_one_statement()
    if conn is not None:
        notify = ctx.settings.wakes_by_notify
        execution = await _execute_pg(conn, ctx, lookup_id(workflow_id, "workflow"), given, notify)
        if not notify:
            await publish_wake(ctx.services, execution)
        return execution
    workflow = await find(ctx, workflow_id, "workflows:write")
    execution = new_execution(workflow, await current_version(workflow), given)
    async with atomic():  # the execution and its audit entry (inside a caller's transaction: joins it)
        await execution.save()
        await trail.record(ctx, "execution.started", execution.id, _started_changes(workflow.id, workflow.version))
        wake_runners(ctx.services)
    return execution


def _started_changes(workflow_id: str, version: int) -> dict[str, Any]:
    return trail.created({"workflowId": workflow_id, "version": version, "status": "pending"})


_EXECUTE_PG = f"""
WITH x AS (
    INSERT INTO executions (id, organization_id, workflow_id, version_id, status, input, current_step,
                            next_run_at, lease, created_at, updated_at)
    SELECT $1::varchar, w.organization_id, w.id, v.id, 'pending', $4::jsonb, 0, $5::timestamptz, 0,
           $5::timestamptz, $5::timestamptz
    FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.number = w.version
    WHERE w.id = $2::varchar AND w.organization_id = $3::varchar AND w.deleted_at IS NULL
    RETURNING *
), au AS (
    INSERT INTO audit_entries (id, organization_id, type, resource_id, actor, key_id, agent_id, changes,
                               request_id, client_address, created_at)
    SELECT $6::varchar, x.organization_id, 'execution.started', x.id, $7::varchar, $8::varchar, $9::varchar,
           jsonb_build_object('after', jsonb_build_object('workflowId', x.workflow_id, 'version', w.version,
                                                          'status', x.status)),
           $10::varchar, $11::varchar, $5::timestamptz
    FROM x JOIN workflows w ON w.id = x.workflow_id
), n AS (
    SELECT pg_notify('{NOTIFY_CHANNEL}', CASE WHEN octet_length(x.input::text) <= {hints.MAX_HINTED_INPUT_BYTES}
        THEN json_build_object('e', x.id, 'o', x.organization_id, 'w', x.workflow_id, 'v', x.version_id,
                               'l', x.lease, 'i', x.input)::text
        ELSE '{hints.PLAIN_WAKE.decode()}' END)
    FROM x WHERE $12::boolean
)
SELECT x.* FROM x LEFT JOIN n ON true
"""


async def _execute_pg(conn: BaseDBAsyncClient, ctx: Context, workflow_id: str, given: Any,
                      notify: bool) -> Execution:
    """PostgreSQL: the workflow's lookup, its current version's, the insert and its audit entry
    (the ORM path's `_started_changes`) in one statement: one round trip where the ORM made three
    (2.7 of the 8.6 ms figure 7 measured per step). With `notify`, the same statement wakes the
    runners with the execution's start hint (hints.py) by NOTIFY, delivered at its commit: no
    publish after it, and no hop through Redis between the commit and the runner."""
    entry_id, _org, _type, _resource, actor, key_id, agent_id, _changes, request_id, address, _at = (
        trail.row_values(ctx, "execution.started", None, {}))
    rows = await pg_fetch(_EXECUTE_PG, new_id("exec"), workflow_id, ctx.organization_id, JSON_DUMPS(given),
                          utcnow(), entry_id, actor, key_id, agent_id, request_id, address, notify, conn=conn)
    if not rows:
        raise NotFound(f"workflow {workflow_id} not found")
    return Execution._init_from_db(**rows[0])


async def get(ctx: Context, execution_id: str) -> Execution:
    """The caller's execution with its steps loaded (`steps_of`)."""
    require(ctx, "workflows:read")
    execution = await owned(Execution, ctx, lookup_id(execution_id, "execution"), "execution")
    await execution.fetch_related("steps")
    return execution


def steps_of(execution: Execution) -> list[ExecutionStep]:
    """The loaded steps in order (lists and reads both load them); none when they were not loaded."""
    loaded: Any = execution.steps
    return sorted(loaded, key=lambda s: s.position) if getattr(loaded, "_fetched", False) else []


async def list_executions(ctx: Context, *, workflow_id: str | None = None, status: str | None = None,
                          limit: int | None = None, cursor: str | None = None) -> Page[Execution]:
    """Newest first; of one workflow, a deleted one's too: its executions stay readable (`get`)."""
    require(ctx, "workflows:read")
    query = Execution.filter(organization_id=ctx.organization_id)
    if workflow_id is not None:
        query = query.filter(workflow_id=(await owned(Workflow, ctx, lookup_id(workflow_id, "workflow"),
                                                      "workflow")).id)
    if status is not None:
        if status not in ("pending", "running", "waiting", *FINISHED):
            raise Invalid("status must be one of pending, running, waiting, completed, failed, cancelled")
        query = query.filter(status=status)
    return await paginate(query.prefetch_related("steps"), limit, cursor)  # each with its steps, as `get`


async def cancel(ctx: Context, execution_id: str) -> Execution:
    """Cancel an unfinished execution: no later step runs, a running call is interrupted, and the
    action its approval step waits for, if still undecided, is withdrawn."""
    require(ctx, "workflows:write")
    async with atomic() as conn:
        execution = await owned(Execution, ctx, lookup_id(execution_id, "execution"), "execution",
                                conn=conn, lock=True)
        if execution.status in FINISHED:
            raise Conflict(f"execution {execution.id} is already {execution.status}")
        await cancel_locked(ctx, execution, conn)
    return await get(ctx, execution.id)


async def retry(ctx: Context, execution_id: str, *, from_start: bool = False) -> Execution:
    """A new execution of the same version, reusing the completed steps before the failed one.

    Its calls out carry the idempotency keys of the run it retries (of the chain's first run, or of
    the last `fromStart` retry in it): the failed step's call may have been taken by the provider
    with its answer lost (a charge that timed out), and the same key has it replayed, not made
    twice. `fromStart` means "do it all again": no step is reused and the keys are its own, so every
    call is made anew. An approval step asks again either way (runner.idempotency_key)."""
    require(ctx, "workflows:write")
    old = await get(ctx, execution_id)
    if old.status not in ("failed", "cancelled"):
        raise Conflict(f"only a failed or cancelled execution can be retried; {old.id} is {old.status}")
    await _refuse_a_second_retry(old.id)
    workflow = await Workflow.get(id=old.workflow_id)
    if workflow.deleted_at is not None:
        raise Conflict(f"workflow {workflow.id} was deleted")
    kept = [] if from_start else _completed_prefix(old)
    version = await WorkflowVersion.get(id=old.version_id)
    root = None if from_start else old.idempotency_root or old.id
    execution = new_execution(workflow, version, old.input, trigger=old.trigger, retry_of=old.id,
                              current_step=len(kept), idempotency_root=root,
                              trigger_depth=old.trigger_depth)  # the same link of its chain of triggers
    audited = {"retryOf": old.id, "workflowId": workflow.id, "fromStart": from_start, "stepsReused": len(kept)}
    try:
        await _start_retry(ctx, execution, kept, audited)
    except IntegrityError:  # another request retried it since the check (the unique index on retry_of)
        await _refuse_a_second_retry(old.id)
        raise
    return await get(ctx, execution.id)


async def _start_retry(ctx: Context, execution: Execution, kept: list[ExecutionStep], audited: dict[str, Any]) -> None:
    """The retry, the steps it reuses and its audit entry, in one transaction: a second retry of
    the same execution fails its insert on the unique index and leaves nothing behind."""
    async with atomic():
        await execution.save()
        await trail.record(ctx, "execution.retried", execution.id, trail.created(audited))
        for step in kept:
            await ExecutionStep.create(execution_id=execution.id, position=step.position, name=step.name,
                                       type=step.type, status="completed", attempts=0, input=step.input,
                                       output=step.output, reused=True, started_at=step.started_at,
                                       finished_at=step.finished_at)
        wake_runners(ctx.services)


async def _refuse_a_second_retry(execution_id: str) -> None:
    """An execution is retried at most once, so that a double submit, even to two replicas, cannot
    run the workflow's side effects twice: the retry that exists is the one to follow (or retry)."""
    retry_id = await Execution.filter(retry_of=execution_id).first().values_list("id", flat=True)
    if retry_id is not None:
        raise Conflict(f"execution {execution_id} was already retried as {retry_id}; retry that one")


def _completed_prefix(execution: Execution) -> list[ExecutionStep]:
    """The steps completed before the first one that did not (the failed or cancelled one)."""
    kept: list[ExecutionStep] = []
    for step in steps_of(execution):
        if step.status != "completed" or step.position != len(kept):
            break
        kept.append(step)
    return kept
