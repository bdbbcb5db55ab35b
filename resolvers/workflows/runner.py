"""Running one claimed execution, step after step, until it finishes, waits or loses its lease.

Each step's config is rendered from the execution's input, the earlier steps' outputs and the
trigger; the step runs under its timeout; its outcome is checkpointed before the next one starts, so
a worker that dies loses at most the step it was running, which the next holder runs again with the
same idempotency key. A step that fails retryably is due again after its backoff (or the provider's
Retry-After), holding no worker meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from app.core.clock import utcnow
from models.db import OwnConnection
from models.organizations import Organization
from models.workflows import Execution, ExecutionStep, WorkflowVersion
from resolvers.context import Context, Services
from resolvers.errors import Invalid
from resolvers.workflows import checkpoints, steps
from resolvers.workflows.cancelling import cancel_if_orphaned
from resolvers.workflows.checkpoints import LeaseLost, capped
from resolvers.workflows.definition import check_config
from resolvers.workflows.hints import StartHint
from resolvers.workflows.leases import Claim, lease_until
from resolvers.workflows.outcomes import Done, Failed, Outcome, Wait
from resolvers.workflows.templates import MissingValue, Scope, render

DEFINITIONS_KEPT = 1024
PLAN_TTL_SECONDS = 30.0
PLANS_KEPT = 10_000
_definitions: dict[tuple[str, int], dict[str, Any]] = {}
_plans: dict[str, tuple[str, float]] = {}
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF_MS = 1000
MAX_BACKOFF_SECONDS = 3600.0


async def system_context(services: Services, organization_id: str, request_id: str) -> Context:
    """The runner acts for the workflow's organization, with the rights a workflow step needs. The
    plan (what an approval step's proposal counts against) is read at most every PLAN_TTL_SECONDS."""
    now = time.monotonic()
    known = _plans.get(organization_id)
    if known is None or known[1] < now:
        organization = await Organization.get(id=organization_id)
        known = _plans[organization_id] = (organization.plan, now + PLAN_TTL_SECONDS)
        if len(_plans) > PLANS_KEPT:
            _plans.clear()
    return Context(organization_id, known[0], None, frozenset({"admin"}), request_id, services)


def idempotency_key(execution: Execution, step: dict[str, Any]) -> str:
    """`{executionId}:{step}`, where a retry's calls out name the run it retries (`idempotency_root`):
    the provider replays a call it took instead of acting twice. An approval step's key stays its own
    execution's: a retry asks for a new decision rather than reading back the one that failed the run
    (rejected, expired, withdrawn), and sink.causes_of reads the proposing execution from it."""
    run = execution.id if step["type"] == "approval" else execution.idempotency_root or execution.id
    return f"{run}:{step['name']}"


def retry_at(step: dict[str, Any], attempts: int, asked: float | None) -> Any:
    """Backoff doubling from the step's `backoffMs` (+-20%), never sooner than a Retry-After asked."""
    backoff = (step.get("retry") or {}).get("backoffMs", DEFAULT_BACKOFF_MS) / 1000
    delay = min(MAX_BACKOFF_SECONDS, backoff * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)
    return utcnow() + timedelta(seconds=max(delay, asked or 0.0))


def max_attempts(step: dict[str, Any]) -> int:
    return int((step.get("retry") or {}).get("maxAttempts", DEFAULT_MAX_ATTEMPTS))


class ExecutionRun:
    """One worker's pass over one execution, from its current step on."""

    def __init__(self, services: Services, claim: Claim, execution: Execution, definition: dict[str, Any],
                 rows: dict[int, ExecutionStep], ctx: Context) -> None:
        self.services, self.claim, self.execution = services, claim, execution
        self.steps: list[dict[str, Any]] = definition["steps"]
        self.rows, self.ctx = rows, ctx

    def scope(self) -> Scope:
        done = {row.name: {"output": row.output, "status": row.status} for row in self.rows.values()
                if row.status in ("completed", "failed")}
        return Scope(input=self.execution.input, steps=done, trigger=self.execution.trigger)

    async def run(self, started: tuple[dict[str, Any], ExecutionStep] | None = None) -> None:
        """Run from the current step on; `started` is the first step's config and row when the
        claim started it already (run_hinted)."""
        if started is not None:
            config, row = started
            self.rows[row.position] = row
            if not await self.settle(self.steps[row.position], row, await self.attempt(self.steps[row.position],
                                                                                      config, row)):
                return
        while self.execution.current_step < len(self.steps):
            if not await self.advance(self.execution.current_step):
                return
        if self.execution.status != "completed":  # the last step's checkpoint completes it; a retry of a
            last = self.rows.get(len(self.steps) - 1)  # run whose steps were all reused gets here
            await checkpoints.finish(self.services, self.claim, self.execution,
                                     output=last.output if last else None)

    async def advance(self, position: int) -> bool:
        """Run the step at `position`; True when the run goes on to the next step."""
        step = self.steps[position]
        outcome: Outcome | None = None
        try:
            rendered = rendered_config(step, self.scope())
        except MissingValue as missing:
            rendered, outcome = None, Failed(f"step {step['name']!r}: {missing}", retryable=False)
        except Invalid as refused:
            rendered, outcome = None, Failed(f"step {step['name']!r}: {refused.message}", retryable=False)
        row = await checkpoints.start_step(self.services, self.claim, self.execution, position, step,
                                           rendered, self.rows.get(position))
        self.rows[position] = row
        allowed = max_attempts(step)
        if outcome is None and row.attempts > allowed:  # each earlier pass stopped mid-step
            tried = row.attempts - 1
            outcome = Failed(f"step {step['name']!r}: its worker stopped before recording an outcome, "
                             f"{tried} attempt{'s' if tried != 1 else ''} of {allowed}; it is not started again",
                             retryable=False)
        if outcome is None and rendered is not None:
            outcome = await self.attempt(step, rendered, row)
        assert outcome is not None
        return await self.settle(step, row, outcome)

    async def attempt(self, step: dict[str, Any], config: dict[str, Any], row: ExecutionStep) -> Outcome:
        key = idempotency_key(self.execution, step)
        timeout_ms = step.get("timeoutMs") or config.get("timeoutMs")
        timeout = timeout_ms / 1000 if timeout_ms else self.services.settings.connector_timeout_seconds
        kind = step["type"]
        try:
            async with asyncio.timeout(timeout if kind not in ("approval", "delay") else None):
                if kind == "http_request":
                    return await steps.guarded(steps.http_request(self.ctx, config, key, timeout))
                if kind == "connector":
                    return await steps.guarded(steps.connector(self.ctx, config, key, timeout))
                if kind == "approval":
                    return await checkpoints.proposed_under_lease(
                        self.claim, lambda: steps.guarded(steps.approval(self.ctx, config, key)))
                return steps.delay(config, row.started_at or utcnow())
        except TimeoutError:
            return Failed(f"step {step['name']!r} timed out after {timeout:g} s", retryable=True)

    async def settle(self, step: dict[str, Any], row: ExecutionStep, outcome: Outcome) -> bool:
        limit = self.services.settings.workflow_step_output_max_bytes
        last = row.position == len(self.steps) - 1
        if isinstance(outcome, Done):
            await checkpoints.step_done(self.services, self.claim, self.execution, row, capped(outcome.output, limit),
                                        completes=last)
            return True
        if isinstance(outcome, Wait):
            await checkpoints.step_waits(self.claim, row, outcome.until, outcome.action_id)
            return False
        if outcome.retryable and row.attempts < max_attempts(step):
            await checkpoints.step_retries(self.claim, row, outcome.error,
                                           retry_at(step, row.attempts, outcome.retry_after))
            return False
        if step.get("continueOnError"):
            await checkpoints.step_done(self.services, self.claim, self.execution, row, None,
                                        failed_error=outcome.error, completes=last)
            return True
        await checkpoints.finish(self.services, self.claim, self.execution, error=outcome.error, failed_step=row)
        return False


async def run_claimed(services: Services, claim: Claim) -> None:
    """Run a claimed execution as far as it goes now; a lost lease ends the pass quietly.

    The claim already carries the execution's row on PostgreSQL, a version's definition never
    changes (kept per process), and an execution that never started (not a retry) has no step rows
    yet: a fresh run reads only whether its workflow was deleted before its first step (a start that
    raced the delete: cancelled, cancelling.cancel_if_orphaned; the hinted claim leaves it to this one)."""
    execution = claim.execution or await Execution.get_or_none(id=claim.execution_id, lease=claim.lease)
    if execution is None or execution.status not in ("pending", "running"):
        return
    ctx = await system_context(services, execution.organization_id, execution.id)
    if execution.started_at is None and await cancel_if_orphaned(ctx, execution, claim.workflow_deleted):
        return  # inserted by a start racing its workflow's delete: cancelled as the delete would have
    definition = await definition_of(execution.workflow_id, execution.version_id)
    fresh = execution.started_at is None and execution.retry_of is None
    rows = {} if fresh else {row.position: row for row in await ExecutionStep.filter(execution_id=execution.id)}
    try:
        await ExecutionRun(services, claim, execution, definition, rows, ctx).run()
    except LeaseLost:
        return


async def run_hinted(services: Services, hint: StartHint, claimed: Callable[[str], None] | None = None,
                     own: OwnConnection | None = None) -> bool:
    """Claim a new execution from its start hint, start its first step in the same write, and run
    it (hints.py). False when this runner did not claim it: another did, or it is not as hinted,
    or its first step does not render (the usual claim then runs it and records why). `claimed` is
    told the execution's id once the claim's answer is known, won or lost; the claim is made on
    `own` connection when given and free (the one the hint came on)."""
    definition = await definition_of(hint.workflow_id, hint.version_id)
    if not definition["steps"]:
        return False
    step = definition["steps"][0]
    try:
        config = rendered_config(step, Scope(input=hint.input, steps={}, trigger=None))
    except (MissingValue, Invalid):
        return False
    taken = await checkpoints.claim_and_start(services, hint, step, config, lease_until(services, utcnow()), own)
    if claimed is not None:
        claimed(hint.execution_id)
    if taken is None:
        return False
    claim, row = taken
    assert claim.execution is not None
    ctx = await system_context(services, hint.organization_id, hint.execution_id)
    with contextlib.suppress(LeaseLost):
        await ExecutionRun(services, claim, claim.execution, definition, {}, ctx).run(started=(config, row))
    return True


def rendered_config(step: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The step's config with its templates filled in, which must now fit its schema strictly (a
    templated method too). Raises MissingValue or Invalid."""
    config: dict[str, Any] = check_config(step["type"], steps.as_sent(step["type"], render(step.get("config", {}),
                                                                                           scope)), templates=False)
    return config


async def definition_of(workflow_id: str, version_id: int) -> dict[str, Any]:
    """A workflow version's definition: versions are written once, so each process keeps the ones it
    ran (keyed with the workflow's id too: a row id alone comes back after a restored database)."""
    key = (workflow_id, version_id)
    definition = _definitions.get(key)
    if definition is None:
        definition = (await WorkflowVersion.get(id=version_id)).definition
        if len(_definitions) >= DEFINITIONS_KEPT:
            _definitions.pop(next(iter(_definitions)))
        _definitions[key] = definition
    return definition
