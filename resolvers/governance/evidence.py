"""Evidence: submitted check results move a pending action on (engine.apply_evidence decides how).

Each submitted check is kept as its own row with its free-form ``meta``; the action's live checks
are updated, a failed required check rejects it and, with ``auto`` approval, all required checks
passing approves it. Evidence that leaves the action waiting emits `action.evidence_added` (the
checks submitted, `readyForApproval`), so a console showing it sees its checks move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.after_commit import atomic
from models.governance import Action, EvidenceCheck
from resolvers.access import require
from resolvers.audit import trail
from resolvers.context import Context
from resolvers.events.outbox import emit
from resolvers.governance import actions
from resolvers.governance.engine import Evidence, apply_evidence
from resolvers.governance.inputs import EvidenceIn, parse
from resolvers.governance.lifecycle import close_approval, ensure_pending, locked_action, save_decided
from resolvers.governance.records import (
    announce,
    audit_after,
    audit_changes,
    checks_of,
    checks_to_rows,
    decider,
    event_data,
    history_row,
)


@dataclass(slots=True)
class EvidenceResult:
    """The action after evidence and whether a human may approve it now."""

    action: Action
    ready_for_approval: bool


async def submit(ctx: Context, action_id: str, data: Any) -> EvidenceResult:
    """Record checks for a pending action (409 once it is decided or expired)."""
    require(ctx, "actions:write")
    spec = parse(EvidenceIn, data)
    evidence = [Evidence(c.name, c.passed, c.note) for c in spec.checks]
    async with atomic() as conn:
        action = await locked_action(ctx, action_id, conn)
        ensure_pending(action)
        before = audit_after(action)
        outcome = apply_evidence("pending_approval", action.approval_mode, checks_of(action), evidence)  # type: ignore[arg-type]
        action.status, action.checks = outcome.status, checks_to_rows(outcome.checks)
        await save_decided(action, decider(ctx), conn)
        await EvidenceCheck.bulk_create(
            [EvidenceCheck(organization_id=ctx.organization_id, action_id=action.id, name=c.name, passed=c.passed,
                           note=c.note, meta=c.meta, submitted_by=ctx.key_id) for c in spec.checks],
            using_db=conn,
        )
        names = [{"name": c.name, "pass": c.passed} for c in spec.checks]
        await history_row(action, "evidence_added", decider(ctx), {"checks": names}).save(using_db=conn)
        await trail.record(ctx, "action.evidence_added", action.id, audit_changes(before, action, checks=names), conn)
        if action.status != "pending_approval":
            await close_approval(action, decider(ctx), conn)
            await announce(ctx.services, action)
        else:  # still waiting, its checks moved: open consoles (actionUpdated) enable Approve when ready
            await emit(ctx.services, action.organization_id, "action.evidence_added",
                       {**event_data(ctx.services, action), "checks": names,
                        "readyForApproval": outcome.ready_for_human})
    return EvidenceResult(action, outcome.ready_for_human)


async def list_evidence(ctx: Context, action_id: str) -> tuple[Action, list[EvidenceCheck]]:
    """Every check submitted for an action, oldest first."""
    action = await actions.get(ctx, action_id)
    rows = await EvidenceCheck.filter(action_id=action.id).order_by("id")
    return action, rows
