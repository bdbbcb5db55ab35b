"""The runner's writes: each is one transaction, fenced by the lease, with its events in the outbox.

A fenced write that changes no execution row means this worker lost the execution (its lease was
taken over, or the execution was cancelled): it raises LeaseLost and the worker stops working on it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import orjson

from app.core.after_commit import atomic
from app.core.clock import utcnow
from app.core.storable import storable_json
from models.db import OwnConnection, connection_for_one_statement
from models.workflows import Execution, ExecutionStep
from resolvers.audit import trail
from resolvers.context import Services
from resolvers.events.outbox import emit, schedule_wake
from resolvers.validation import carried
from resolvers.workflows import checkpoints_pg
from resolvers.workflows.hints import StartHint
from resolvers.workflows.leases import Claim
from resolvers.workflows.outcomes import Outcome, Wait

RUNNER = "workflows"  # the audit trail's actor for the runner: `system:workflows`

CUT_MARKER = "[cut: over the step output limit]"
# A step's start lets its events (`workflow.started`) wait this long for the relay, so the relay and
# the audit sealer (woken with it) do not run beside the step's call; the step's checkpoint, which
# wakes the relay at the usual delay, brings that wake forward (outbox.schedule_wake).
STARTED_WAKE_SECONDS = 0.05


class LeaseLost(Exception):
    """This worker no longer holds the execution; nothing it does now may be recorded."""


def capped(value: Any, limit: int) -> Any:
    """`value` (storable: app/core/storable.py), or a marker with its start when its JSON is over `limit` bytes
    (or when it cannot be written at all: `validation.carried`)."""
    value = carried(value)
    raw = orjson.dumps(value)
    if b"\\u0000" in raw:  # a NUL from the step's endpoint (or a literal backslash-u0000: replacing changes nothing)
        value = storable_json(value)
        raw = orjson.dumps(value)
    if len(raw) <= limit:
        return value
    return {"truncated": True, "bytes": len(raw), "marker": CUT_MARKER,
            "preview": raw[: min(limit // 2, 4096)].decode("utf-8", "ignore")}


async def _fenced(claim: Claim, **values: Any) -> None:
    updated = await Execution.filter(id=claim.execution_id, lease=claim.lease,
                                     status__in=("pending", "running")).update(**values, updated_at=utcnow())
    if not updated:
        raise LeaseLost(claim.execution_id)


def _event(execution: Execution, **data: Any) -> dict[str, Any]:
    return {"workflowId": execution.workflow_id, "executionId": execution.id, **data}


async def start_step(services: Services, claim: Claim, execution: Execution, position: int, step: dict[str, Any],
                     rendered: Any, row: ExecutionStep | None) -> ExecutionStep:
    """Mark the step running (a new attempt unless it was waiting); the first step also starts the run."""
    now = utcnow()
    conn = connection_for_one_statement()
    if conn is not None and row is None:
        return await _start_fresh(services, conn, claim, execution, position, step, rendered, now)
    async with atomic():
        first = execution.started_at is None
        await _fenced(claim, status="running", started_at=execution.started_at or now)
        if row is None:
            row = await ExecutionStep.create(execution_id=execution.id, position=position, name=step["name"],
                                             type=step["type"], status="running", attempts=1, input=rendered,
                                             started_at=now)
        else:
            attempts = row.attempts if row.status == "waiting" else row.attempts + 1
            await ExecutionStep.filter(id=row.id).update(status="running", attempts=attempts, input=rendered,
                                                         started_at=row.started_at or now, error=None)
            row.status, row.attempts, row.started_at = "running", attempts, row.started_at or now
        if first:
            execution.started_at = now
            await emit(services, execution.organization_id, "workflow.started",
                       _event(execution, status="running"))
    execution.status = "running"
    return row


async def _start_fresh(services: Services, conn: Any, claim: Claim, execution: Execution, position: int,
                       step: dict[str, Any], rendered: Any, now: datetime) -> ExecutionStep:
    """PostgreSQL, a step never started before: one statement (checkpoints_pg)."""
    first = execution.started_at is None
    step_id = await checkpoints_pg.start_fresh_step(
        conn, claim.execution_id, claim.lease, now, position, step["name"], step["type"], rendered,
        _event(execution, status="running") if first else None)
    if step_id is None:
        raise LeaseLost(claim.execution_id)
    if first:
        execution.started_at = now
        schedule_wake(services, STARTED_WAKE_SECONDS)
    execution.status = "running"
    return ExecutionStep(id=step_id, execution_id=execution.id, position=position, name=step["name"],
                         type=step["type"], status="running", attempts=1, input=rendered, started_at=now)


async def claim_and_start(services: Services, hint: StartHint, step: dict[str, Any], rendered: Any,
                          until: datetime, own: OwnConnection | None = None) -> tuple[Claim, ExecutionStep] | None:
    """PostgreSQL: claim the hinted execution and start its first step in one write (hints.py),
    on `own` connection when given and free; None when it is no longer as hinted (another runner
    took it, or it is capped, cancelled...)."""
    pooled = connection_for_one_statement()
    if pooled is None:
        return None
    conn = pooled if own is None else own
    now = utcnow()
    started = {"workflowId": hint.workflow_id, "executionId": hint.execution_id, "status": "running"}
    row = await checkpoints_pg.claim_and_start(conn, hint.execution_id, hint.lease, now, until, step["name"],
                                               step["type"], rendered, started)
    if row is None:
        return None
    schedule_wake(services, STARTED_WAKE_SECONDS)
    execution = Execution._init_from_db(**row)
    claim = Claim(execution.id, execution.lease, execution)
    return claim, ExecutionStep(id=row["step_id"], execution_id=execution.id, position=0, name=step["name"],
                                type=step["type"], status="running", attempts=1, input=rendered, started_at=now)


async def step_done(services: Services, claim: Claim, execution: Execution, row: ExecutionStep, output: Any,
                    *, failed_error: str | None = None, completes: bool = False) -> None:
    """Checkpoint a finished step (or one failed with continueOnError) and move the pointer on; with
    `completes` (the last step) the execution completes with this step's output in the same write."""
    now = utcnow()
    status = "failed" if failed_error else "completed"
    step_event = _event(execution, step=row.name, position=row.position, status=status, attempts=row.attempts,
                        error=failed_error)
    completed_event = _event(execution, status="completed", output=output) if completes else None
    conn = connection_for_one_statement()
    if conn is not None:
        held = await checkpoints_pg.step_done(
            conn, claim.execution_id, claim.lease, now, step_id=row.id, next_step=row.position + 1, status=status,
            output=output, error=failed_error, step_event=step_event, completed_event=completed_event,
            audit=finished_changes("completed", None) if completes else None)
        if not held:
            raise LeaseLost(claim.execution_id)
        schedule_wake(services)
    else:
        async with atomic():
            if completes:
                await _fenced(claim, current_step=row.position + 1, status="completed", output=output,
                              finished_at=now, claimed_until=None, next_run_at=None, waiting_action_id=None)
            else:
                await _fenced(claim, current_step=row.position + 1, next_run_at=now)
            await ExecutionStep.filter(id=row.id).update(status=status, output=output, error=failed_error,
                                                         finished_at=now)
            await emit(services, execution.organization_id, "workflow.step_completed", step_event)
            if completed_event is not None:  # document 002's webhook body, exactly
                await emit(services, execution.organization_id, "workflow.completed", completed_event)
                await trail.record(_runner(execution), "execution.completed", execution.id,
                                   finished_changes("completed", None))
    row.status, row.output, row.error, row.finished_at = status, output, failed_error, now
    execution.current_step = row.position + 1
    if completes:
        execution.status = "completed"


def _runner(execution: Execution) -> trail.Actor:
    return trail.Actor.system(execution.organization_id, RUNNER)


def finished_changes(status: str, error: str | None) -> dict[str, Any]:
    """A finished execution's audit entry: its status (and error), not its output, which is data."""
    after: dict[str, Any] = {"status": status} | ({"error": error[:500]} if error else {})
    return {"before": {"status": "running"}, "after": after}


async def step_waits(claim: Claim, row: ExecutionStep, until: datetime, action_id: str | None) -> None:
    """Park the execution holding no worker: due again at `until` (or when its approval is decided)."""
    async with atomic():
        await _fenced(claim, status="waiting", next_run_at=until, claimed_until=None, waiting_action_id=action_id)
        await ExecutionStep.filter(id=row.id).update(status="waiting")


async def proposed_under_lease(claim: Claim, propose: Callable[[], Awaitable[Outcome]]) -> Outcome:
    """An approval step's proposal and the action the execution then waits for, in one transaction
    holding the execution's row under its lease. A cancel (cancelling.cancel_locked) either comes
    first, and then nothing is proposed (LeaseLost), or finds the action recorded and withdraws it.
    Proposed on its own, a cancel landing between the proposal and `step_waits` left the action
    pending for a reviewer, with no execution waiting for it."""
    async with atomic():
        await _fenced(claim)  # the row's lock, held to the commit
        outcome = await propose()
        if isinstance(outcome, Wait) and outcome.action_id is not None:
            await _fenced(claim, waiting_action_id=outcome.action_id)
    return outcome


async def step_retries(claim: Claim, row: ExecutionStep, error: str, at: datetime) -> None:
    """The step failed in a way a retry may fix: due again at `at`, same step, same idempotency key."""
    async with atomic():
        await _fenced(claim, next_run_at=at, claimed_until=None)
        await ExecutionStep.filter(id=row.id).update(status="pending", error=error)


async def finish(services: Services, claim: Claim, execution: Execution, *, output: Any = None,
                 error: str | None = None, failed_step: ExecutionStep | None = None) -> None:
    """Complete the execution with its output, or fail it with the error (and the failed step)."""
    now = utcnow()
    status = "failed" if error is not None else "completed"
    async with atomic():
        await _fenced(claim, status=status, output=output, error=error, finished_at=now, claimed_until=None,
                      next_run_at=None, waiting_action_id=None)
        if failed_step is not None:
            await ExecutionStep.filter(id=failed_step.id).update(status="failed", error=error, finished_at=now)
        if status == "completed":  # document 002's webhook body, exactly
            data = _event(execution, status="completed", output=output)
        else:
            data = _event(execution, status="failed", error=error,
                          step=failed_step.name if failed_step else None)
        await emit(services, execution.organization_id, f"workflow.{status}", data)
        await trail.record(_runner(execution), f"execution.{status}", execution.id, finished_changes(status, error))
