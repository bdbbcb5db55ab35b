"""The relay's sink for workflows, in the relay's transaction: start the executions that committed
events trigger, and wake the executions waiting for an action that was just decided.

A trigger starts at most one execution per (workflow, event): `trigger_key` is unique, so an event
relayed twice (a relay that died before its commit) is skipped the second time. A workflow's own
events never trigger the same workflow, which would loop: neither its `workflow.*` events nor the
events of an action its own approval step proposed (`origins_of`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

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
    origins = await origins_of([event for event, _ in matched])
    for event, workflow in matched:
        if origins.get(str(event.data.get("actionId"))) == workflow.id:
            continue
        if workflow.id not in versions:
            versions[workflow.id] = await WorkflowVersion.get(workflow_id=workflow.id, number=workflow.version)
        queued.append(new_execution(workflow, versions[workflow.id], {}, trigger=trigger_payload(event),
                                    trigger_key=f"{workflow.id}:{event.id}"))
    if queued:
        await Execution.bulk_create(queued, ignore_conflicts=True)
        await AuditEntry.bulk_create([_started_entry(e) for e in queued], ignore_conflicts=True)
    return len(queued)


async def origins_of(events: list[Committed]) -> dict[str, str]:
    """action id -> the workflow whose approval step proposed it, for the actions these events are
    about. Such an action was proposed by the runner (no API key) under the step's idempotency key
    `{executionId}:{step}`: without this, a workflow triggered by `action.approved` of the type its
    own approval step proposes started itself again on every run, without end."""
    action_ids = {str(e.data["actionId"]) for e in events if e.type.startswith("action.") and e.data.get("actionId")}
    if not action_ids:
        return {}
    keys = await Action.filter(id__in=action_ids, proposed_by=None, idempotency_key__startswith="exec_").values_list(
        "id", "idempotency_key")
    proposed = [(str(action_id), str(key).split(":", 1)[0]) for action_id, key in keys]
    if not proposed:
        return {}
    runs = dict(await Execution.filter(id__in={run for _, run in proposed}).values_list("id", "workflow_id"))
    return {action_id: str(runs[run]) for action_id, run in proposed if run in runs}


def _started_entry(execution: Execution) -> AuditEntry:
    """The audit entry of a triggered start, its id fixed by the trigger key: a replayed event
    adds neither a second execution nor a second entry."""
    changes = trail.created({"workflowId": execution.workflow_id, "status": execution.status,
                             "trigger": (execution.trigger or {}).get("event")})
    return AuditEntry(id=trail.derived_id(str(execution.trigger_key)), organization_id=execution.organization_id,
                      type="execution.started", resource_id=execution.id, actor=f"{trail.SYSTEM}:workflows",
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
