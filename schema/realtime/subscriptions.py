"""The Subscription root: pendingApprovals, actionUpdated, executionUpdated, events.

These fields declare the schema (arguments, payload types) and FEEDS says, per field, which events
belong to a subscription and how one event becomes its payload. They are served by the
multiplexing hub in app/subscriptions/, which executes a document once per event for all the
subscribers that share it, instead of Strawberry running one generator per subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from resolvers.events import feeds
from resolvers.events.feeds import Envelope, Matcher
from schema.enums import PendingChange
from schema.realtime.types import (
    ActionSnapshot,
    ActionUpdate,
    ApprovalSnapshot,
    ExecutionSnapshot,
    ExecutionUpdate,
    LiveEvent,
    PendingApprovalChange,
)


@dataclass(frozen=True, slots=True)
class Feed:
    """How the hub serves one subscription field."""

    matcher: Callable[[dict[str, Any]], Matcher]  # from the field's coerced arguments
    payload: Callable[[Envelope], object]  # the root value the document is executed against
    replays: bool = False  # takes `since` and replays from the events table


def _pending(event: Envelope) -> PendingApprovalChange:
    change, data = feeds.pending_change(event) or "created", event.get("data") or {}
    return PendingApprovalChange(
        seq=event["seq"], timestamp=event["timestamp"], event_id=strawberry.ID(event["id"]), event=event["event"],
        change=PendingChange(change),
        approval=ApprovalSnapshot.from_data(data, change), action=ActionSnapshot.from_data(data),
    )


def _action(event: Envelope) -> ActionUpdate:
    return ActionUpdate(
        seq=event["seq"], timestamp=event["timestamp"], event_id=strawberry.ID(event["id"]), event=event["event"],
        action=ActionSnapshot.from_data(event.get("data") or {}),
    )


def _execution(event: Envelope) -> ExecutionUpdate:
    return ExecutionUpdate(
        seq=event["seq"], timestamp=event["timestamp"], event_id=strawberry.ID(event["id"]), event=event["event"],
        execution=ExecutionSnapshot.from_data(event.get("data") or {}),
    )


def _event(event: Envelope) -> LiveEvent:
    return LiveEvent(
        seq=event["seq"], timestamp=event["timestamp"], id=strawberry.ID(event["id"]), event=event["event"],
        data=cast(JSON, event.get("data") or {}),
    )


FEEDS: dict[str, Feed] = {
    "pendingApprovals": Feed(lambda _a: lambda e: feeds.pending_change(e) is not None, _pending, replays=True),
    "actionUpdated": Feed(lambda a: feeds.action_matcher(a.get("id")), _action),
    "executionUpdated": Feed(lambda a: feeds.execution_matcher(a.get("id")), _execution),
    "events": Feed(lambda a: feeds.types_matcher(a.get("types")), _event),
}


async def _served_by_hub() -> AsyncGenerator[Any, None]:
    raise RuntimeError("subscriptions are served by app.subscriptions (multiplexed), not executed per client")
    yield  # pragma: no cover  (makes this an async generator)


@strawberry.type
class RealtimeSubscriptions:
    @strawberry.subscription(description="Every change to the pending set (scope approvals:read). "
                             "`since` (an event seq, exact, or an ISO-8601 timestamp) first replays what "
                             "changed after it.")
    def pending_approvals(
        self, since: Annotated[str | None, strawberry.argument(
            description="Replay the changes after this point first: an event `seq` or an ISO-8601 timestamp."
        )] = None,
    ) -> AsyncGenerator[PendingApprovalChange, None]:
        return _served_by_hub()

    @strawberry.subscription(description="Updates of one action, or of all the organization's (actions:read).")
    def action_updated(
        self, id: Annotated[strawberry.ID | None, strawberry.argument(
            description="The action's id (`act_...`); every action of the organization when left out."
        )] = None,
    ) -> AsyncGenerator[ActionUpdate, None]:
        return _served_by_hub()

    @strawberry.subscription(description="Updates of one workflow execution, or of all (workflows:read).")
    def execution_updated(
        self, id: Annotated[strawberry.ID | None, strawberry.argument(
            description="The execution's id (`exec_...`); every execution of the organization when left out."
        )] = None,
    ) -> AsyncGenerator[ExecutionUpdate, None]:
        return _served_by_hub()

    @strawberry.subscription(description="Events of the catalogue, `types` may use globs like action.* "
                             "(events:read).")
    def events(
        self, types: Annotated[list[str] | None, strawberry.argument(
            description="Event names or globs such as `action.*`; every event when left out."
        )] = None,
    ) -> AsyncGenerator[LiveEvent, None]:
        return _served_by_hub()
