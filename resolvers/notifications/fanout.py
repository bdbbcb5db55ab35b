"""The relay sink: an action event whose matched policies name `notify` connectors becomes one
notification row per connector, in the relay's transaction (so none is lost or made twice).

Runs for every relayed batch, so it costs nothing for batches without action events and one query
for those whose actions matched no policy; the senders are woken through the bus after commit.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import orjson
from tortoise import connections

from app.core.clock import utcnow
from app.core.ids import new_id
from models.connectors import Connector
from models.notifications import Notification
from resolvers.context import Services
from resolvers.events.outbox import Committed, wake_after_commit
from resolvers.events.relay import add_sink
from resolvers.notifications.messages import NOTIFIED_EVENTS, input_for

WAKE_CHANNEL: Final = "gatehouse:notifications:wake"
_log = logging.getLogger("gatehouse.notifications")


@add_sink
async def notify_policies(services: Services, events: list[Committed]) -> None:
    """Create the notifications for a batch of events."""
    wanted = [e for e in events if e.type in NOTIFIED_EVENTS and isinstance(e.data.get("actionId"), str)]
    if not wanted:
        return
    policy_ids = await _policy_ids(wanted)
    targets = await _targets(policy_ids)
    if not targets:
        return
    connectors = await Connector.filter(id__in={t["connector"] for ts in targets.values() for _, t in ts}) \
        .values_list("id", "type", "organization_id")
    types = {(org, cid): kind for cid, kind, org in connectors}
    rows = [row for e in wanted for row in _safe_rows(e, policy_ids.get(e.data["actionId"], []), targets, types)]
    if rows:
        await Notification.bulk_create(rows)
        wake_after_commit(services.bus, WAKE_CHANNEL)


async def _policy_ids(events: list[Committed]) -> dict[str, list[str]]:
    """action id -> the ids of the policies its proposal matched (carried in the event's data)."""
    return {e.data["actionId"]: [str(p) for p in e.data.get("policyIds") or []] for e in events}


# Marked as the relay's own read: tests that count a request's queries leave it out.
_NOTIFYING = "/* relay:notify */ SELECT id, notify FROM policies WHERE notify IS NOT NULL AND id IN ({marks})"


async def _targets(policy_ids: dict[str, list[str]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """policy id -> its (policy id, notify entry) pairs, for the policies that notify anyone."""
    ids = sorted({p for ps in policy_ids.values() for p in ps})
    if not ids:
        return {}
    conn = connections.get("default")
    marks = ", ".join(f"${i}" if conn.capabilities.dialect == "postgres" else "?" for i in range(1, len(ids) + 1))
    rows = await conn.execute_query_dict(_NOTIFYING.format(marks=marks), ids)
    targets: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for row in rows:
        notify = row["notify"] if not isinstance(row["notify"], str | bytes) else orjson.loads(row["notify"])
        if notify:
            targets[row["id"]] = [(row["id"], entry) for entry in notify]
    return targets


def _safe_rows(event: Committed, policy_ids: list[str], targets: dict[str, list[tuple[str, dict[str, Any]]]],
               types: dict[tuple[str, str], str]) -> list[Notification]:
    """`_rows`, but an event whose notice cannot be built is logged and skipped: a notice must
    never hold up the relay (webhooks and subscribers wait on it)."""
    try:
        return _rows(event, policy_ids, targets, types)
    except Exception:
        _log.exception("notification for event %s could not be built", event.id)
        return []


def _rows(event: Committed, policy_ids: list[str], targets: dict[str, list[tuple[str, dict[str, Any]]]],
          types: dict[tuple[str, str], str]) -> list[Notification]:
    """One notification per connector named by the action's policies (the first policy's entry wins)."""
    chosen: dict[str, tuple[str, dict[str, Any]]] = {}
    for pid in policy_ids:
        for policy_id, entry in targets.get(pid, []):
            # a connector deleted since the policy was written is skipped; so is another tenant's
            if (event.organization_id, entry["connector"]) in types:
                chosen.setdefault(entry["connector"], (policy_id, entry))
    now = utcnow()
    org = event.organization_id
    return [
        Notification(
            id=new_id("ntf"), organization_id=event.organization_id, action_id=event.data["actionId"],
            event_id=event.id, event_type=event.type, policy_id=policy_id, connector_id=connector_id,
            connector_action=entry["action"],
            input=input_for(types[org, connector_id], entry["action"], entry.get("input") or {}, event.type,
                            event.data),
            status="pending", attempts=0, next_attempt_at=now, created_at=now,
        )
        for connector_id, (policy_id, entry) in chosen.items()
    ]

