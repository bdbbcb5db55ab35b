"""The relay's sink for workflows, in the relay's transaction: start the executions that committed
events trigger, and wake the executions waiting for an action that was just decided.

A trigger starts at most one execution per (workflow, event): `trigger_key` is unique, so an event
relayed twice (a relay that died before its commit) is skipped the second time. A workflow's own
events never trigger the same workflow, which would loop: neither its `workflow.*` events nor the
events of an action its own approval step proposed (`causes_of`).

Workflows can still loop through each other (A's `workflow.completed` starts B, B's starts A; or
their approval steps' decisions), so every execution counts how many executions precede it in its
chain of triggers (`trigger_depth`): one started by an event an execution at depth d caused is at
d + 1. Past MAX_TRIGGER_DEPTH the sink starts nothing: it records the execution as failed at once,
saying why, with an `execution.failed` audit entry and a log line, and emits no event for it (an
event would be the chain's next link).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, NamedTuple

from app.core.clock import utcnow
from models.audit import AuditEntry
from models.db import pg_fetch
from models.governance import Action
from models.workflows import Execution, Workflow, WorkflowVersion
from resolvers.audit import trail
from resolvers.context import Services
from resolvers.events.outbox import DECISION_EVENTS, Committed
from resolvers.events.relay import add_sink
from resolvers.workflows.executions import new_execution, wake_runners
from resolvers.workflows.triggers import matches

MAX_TRIGGER_DEPTH = 8
_log = logging.getLogger("gatehouse.workflows")


class Cause(NamedTuple):
    """The execution whose run emitted an event (or proposed the action it is about)."""

    execution_id: str
    workflow_id: str
    depth: int


def trigger_payload(event: Committed) -> dict[str, Any]:
    """What `{{ trigger.* }}` sees: the event's data (an action's id, type, params ...) and its name."""
    return {**event.data, "event": event.type, "eventId": event.id}


async def start_triggered(events: list[Committed]) -> int:
    """Queue one execution per matching (workflow, event); an event seen before adds none
    (`INSERT ... ON CONFLICT DO NOTHING` on the unique trigger key)."""
    by_org: dict[str, list[Workflow]] = defaultdict(list)
    organizations = {event.organization_id for event in events}
    for workflow in await Workflow.filter(organization_id__in=organizations, deleted_at=None, trigger__isnull=False):
        by_org[workflow.organization_id].append(workflow)
    if not by_org:
        return 0
    versions: dict[str, WorkflowVersion] = {}
    queued: list[Execution] = []
    matched = [(event, workflow) for event in events for workflow in by_org.get(event.organization_id, ())
               if event.data.get("workflowId") != workflow.id and matches(workflow.trigger or {}, event.type,
                                                                          event.data)]
    causes = await causes_of([event for event, _ in matched])
    refused: list[Execution] = []
    for event, workflow in matched:
        cause = causes.get(event.id)
        if cause is not None and cause.workflow_id == workflow.id:
            continue
        if workflow.id not in versions:
            versions[workflow.id] = await WorkflowVersion.get(workflow_id=workflow.id, number=workflow.version)
        depth = 0 if cause is None else cause.depth + 1
        execution = new_execution(workflow, versions[workflow.id], {}, trigger=trigger_payload(event),
                                  trigger_key=f"{workflow.id}:{event.id}", trigger_depth=depth)
        if depth > MAX_TRIGGER_DEPTH and cause is not None:
            refused.append(_refused(execution, event, cause))
        else:
            queued.append(execution)
    if queued or refused:
        await Execution.bulk_create([*queued, *refused], ignore_conflicts=True)
        await AuditEntry.bulk_create([*map(_started_entry, queued), *map(_refused_entry, refused)],
                                     ignore_conflicts=True)
    return len(queued)


def _refused(execution: Execution, event: Committed, cause: Cause) -> Execution:
    """The execution a trigger would start too deep in a chain, failed before its first step."""
    execution.status, execution.next_run_at, execution.finished_at = "failed", None, utcnow()
    execution.error = (f"not started: the {event.type} event {event.id} that triggered it was caused by execution "
                       f"{cause.execution_id} (workflow {cause.workflow_id}), {cause.depth + 1} triggered runs "
                       f"deep; a chain of triggers stops past {MAX_TRIGGER_DEPTH}, so that workflows that "
                       "trigger each other do not loop")
    _log.warning("workflow %s: trigger chain too deep, execution %s not started: %s", execution.workflow_id,
                 execution.id, execution.error)
    return execution


async def causes_of(events: list[Committed]) -> dict[str, Cause]:
    """event id -> the execution that caused it, for the events some execution caused: the runner's
    `workflow.*` events name theirs (`executionId`); an action proposed under a step's idempotency
    key `{executionId}:{step}` is that execution's doing, whether its approval step proposed it (no
    API key) or its http_request step called Gatehouse's own API (the step sends that key as
    `Idempotency-Key`). Without the first, a workflow triggered by `action.approved` of the type its
    own approval step proposes started itself again on every run; without the second, a workflow
    triggered by `action.approved` whose step proposed the same type through POST /actions started
    itself without end; without the depth, two workflows triggering each other looped. Only an
    execution of the event's own organization is a cause (a key is the client's to choose)."""
    action_ids = {str(e.data["actionId"]) for e in events if e.type.startswith("action.") and e.data.get("actionId")}
    proposers: dict[str, str] = {}
    if action_ids:
        keys = await Action.filter(id__in=action_ids, idempotency_key__startswith="exec_"
                                   ).values_list("id", "idempotency_key")
        proposers = {str(action_id): str(key).split(":", 1)[0] for action_id, key in keys}
    by_event: dict[str, str] = {}
    for event in events:
        run = (str(event.data["executionId"]) if event.type.startswith("workflow.") and event.data.get("executionId")
               else proposers.get(str(event.data.get("actionId"))))
        if run is not None:
            by_event[event.id] = run
    if not by_event:
        return {}
    rows = await Execution.filter(id__in=set(by_event.values())).values_list(
        "id", "organization_id", "workflow_id", "trigger_depth")
    runs = {str(run_id): (str(org), Cause(str(run_id), str(workflow_id), int(depth)))
            for run_id, org, workflow_id, depth in rows}
    organization_of = {event.id: event.organization_id for event in events}
    return {event_id: runs[run][1] for event_id, run in by_event.items()
            if run in runs and runs[run][0] == organization_of[event_id]}


def _started_entry(execution: Execution) -> AuditEntry:
    """The audit entry of a triggered start, its id fixed by the trigger key: a replayed event
    adds neither a second execution nor a second entry."""
    return _trigger_entry(execution, "execution.started", {})


def _refused_entry(execution: Execution) -> AuditEntry:
    """The audit entry of a start refused for its chain's depth, its id fixed by the trigger key too."""
    return _trigger_entry(execution, "execution.failed",
                          {"triggerDepth": execution.trigger_depth, "error": execution.error})


def _trigger_entry(execution: Execution, kind: str, extra: dict[str, Any]) -> AuditEntry:
    changes = trail.created({"workflowId": execution.workflow_id, "status": execution.status,
                             "trigger": (execution.trigger or {}).get("event"), **extra})
    return AuditEntry(id=trail.derived_id(str(execution.trigger_key)), organization_id=execution.organization_id,
                      type=kind, resource_id=execution.id, actor=f"{trail.SYSTEM}:workflows",
                      changes=changes, created_at=utcnow())


# One statement with one array parameter, whatever the batch's size: building Tortoise's
# `IN ($2, $3, ...)` for a relay batch of approvals was 4% of the worker's CPU in figure 6's burst.
_WAKE_DECIDED_PG = """
WITH woken AS (
    UPDATE executions SET next_run_at = $1
    WHERE status = 'waiting' AND waiting_action_id = ANY($2::varchar[])
    RETURNING 1
)
SELECT count(*) FROM woken
"""


async def wake_decided(services: Services, events: list[Committed]) -> int:
    """Executions waiting for one of these decisions are due now."""
    decided = [str(e.data.get("actionId")) for e in events if e.type in DECISION_EVENTS and e.data.get("actionId")]
    if not decided:
        return 0
    if services.settings.is_sqlite:
        return await Execution.filter(status="waiting", waiting_action_id__in=decided).update(next_run_at=utcnow())
    [row] = await pg_fetch(_WAKE_DECIDED_PG, utcnow(), decided)
    return int(row[0])


@add_sink
async def run_workflows(services: Services, events: list[Committed]) -> None:
    if await start_triggered(events) + await wake_decided(services, events):
        wake_runners(services)
