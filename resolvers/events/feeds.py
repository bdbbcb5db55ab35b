"""Live feeds: which events each subscription receives, and the replay that fills a reconnect's gap.

A feed is domain logic, not transport: it says which scope reads it, which committed events
(envelopes as published by the relay) belong to it, and how a client that was away catches up from
the events table. The WebSocket transport (app/subscriptions/) only routes what these functions say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from tortoise.models import Model
from tortoise.queryset import QuerySet

from app.core.clock import parse_timestamp
from models.events import Event, RelayedEvent
from models.governance import Action
from models.workflows import Execution
from resolvers.access import require
from resolvers.context import Context
from resolvers.errors import Invalid
from resolvers.events.outbox import CATALOGUE, Committed, envelope
from resolvers.lookup import owned

Envelope = dict[str, Any]
Matcher = Callable[[Envelope], bool]
REPLAY_BATCH = 500
MAX_GAP = 10_000  # events a server reads back to fill what it missed of the bus (past it: the clients' `since`)
REPLAY_CLOCK_MARGIN = timedelta(seconds=5)
MAX_TYPE_PATTERNS = 20
# What a change to the pending set is called, by the event that reports it.
PENDING_CHANGES = {
    "action.pending_approval": "created",
    "action.approved": "approved",
    "action.rejected": "rejected",
    "action.expired": "expired",
    "action.cancelled": "cancelled",
}
SCOPES = {
    "pendingApprovals": "approvals:read",
    "actionUpdated": "actions:read",
    "executionUpdated": "workflows:read",
    "events": "events:read",
}


def authorize(ctx: Context, feed: str) -> None:
    """Forbidden unless the key may read `feed` (checked on every subscribe)."""
    require(ctx, SCOPES[feed])


# Feeds that follow one row by `id`, and what that row is called in a NotFound.
TARGETS: dict[str, tuple[type[Model], str]] = {
    "actionUpdated": (Action, "action"),
    "executionUpdated": (Execution, "execution"),
}


async def check_target(ctx: Context, feed: str, arguments: dict[str, Any]) -> None:
    """NotFound, worded as the read of that id, unless the row `feed` follows is the caller's.

    Ids are the server's (a proposal's actionId, an execution's executionId): a row is there before
    anyone can name it, so an id that is not the organization's (a typo, another organization's:
    the same answer) would only ever be a silent subscription."""
    target, row_id = TARGETS.get(feed), arguments.get("id")
    if target is not None and row_id is not None:
        await owned(target[0], ctx, str(row_id), target[1])


def pending_change(event: Envelope) -> str | None:
    """created/approved/rejected/expired/cancelled when `event` changes the pending set, else None.

    A decision changes the pending set only for an action that waited for it: governance's events
    carry `approvalId` for those (an action approved or rejected by policy at once has none).
    """
    change = PENDING_CHANGES.get(event.get("event", ""))
    if change is None:
        return None
    data = event.get("data") or {}
    return change if change in ("created", "expired", "cancelled") or data.get("approvalId") else None


def action_matcher(action_id: str | None) -> Matcher:
    """Events of one action (or of every action of the organization when no id)."""

    def matches(event: Envelope) -> bool:
        if not str(event.get("event", "")).startswith("action."):
            return False
        return action_id is None or (event.get("data") or {}).get("actionId") == action_id

    return matches


def execution_matcher(execution_id: str | None) -> Matcher:
    """Events of one workflow execution (or of all of them)."""

    def matches(event: Envelope) -> bool:
        if not str(event.get("event", "")).startswith("workflow."):
            return False
        return execution_id is None or (event.get("data") or {}).get("executionId") == execution_id

    return matches


def types_matcher(patterns: list[str] | None) -> Matcher:
    """Events whose type matches one of `patterns` (globs such as `action.*`); all when None."""
    if patterns is None:
        return lambda _event: True
    if len(patterns) > MAX_TYPE_PATTERNS or any(not p or len(p) > 64 for p in patterns):
        raise Invalid(f"types takes 1 to {MAX_TYPE_PATTERNS} patterns of 1 to 64 characters")
    if not any(fnmatchcase(known, p) for p in patterns for known in CATALOGUE):
        raise Invalid(f"types match no event of the catalogue: {', '.join(CATALOGUE)}")
    chosen = frozenset(patterns)
    return lambda event: any(fnmatchcase(str(event.get("event", "")), p) for p in chosen)


def parse_since(since: str) -> int | datetime:
    """A seq (digits: the `seq` of the last event seen) or an ISO-8601 timestamp.

    A seq is exact: events reach subscribers in seq order (the relay's positions, see
    resolvers/events/relay.py), so everything after it is everything not yet seen. A timestamp
    replays from REPLAY_CLOCK_MARGIN before it (the relay's clock may lag the one that stamped the
    event): a duplicate is harmless to a list kept by approval id, a gap is not.
    """
    text = since.strip()
    if text.isascii() and text.isdigit():
        if len(text) > 18:  # past a bigint; no seq is that large
            raise Invalid("since must be an event seq (at most 18 digits) or an ISO-8601 timestamp")
        return int(text)
    try:
        return parse_timestamp(text)
    except ValueError:
        raise Invalid("since must be an event seq or an ISO-8601 timestamp") from None


async def replay_point(since: str) -> int | datetime:
    """`since` parsed (parse_since), refused when it is a seq no event has yet.

    Every seq a client was sent is in the relay's log before it is published, so a larger one is
    not a resume point (a Unix time taken for a seq, a seq kept across a database restore): accepted,
    it would drop every live event below it, a subscription silent for good."""
    point = parse_since(since)
    if isinstance(point, int) and point > 0:
        last = await RelayedEvent.all().order_by("-position").first()
        if point > (last.position if last is not None else 0):
            raise Invalid(f"since: no event has seq {point} yet; pass the last seq received, or an ISO-8601 "
                          "timestamp")
    return point


async def replay_batch(ctx: Context, since: int | datetime, after_seq: int | None) -> list[Envelope]:
    """The organization's next relayed events after `since`, in seq order, one batch.

    Call again with the last seq seen until an empty batch comes back. Events not yet relayed are
    not included: they have no seq yet, and reach a subscriber live, after the replay."""
    floor = after_seq if after_seq is not None else await _floor(ctx.organization_id, since)
    logged = (RelayedEvent.filter(organization_id=ctx.organization_id, position__gt=floor)
              .order_by("position").limit(REPLAY_BATCH))
    return await _envelopes(logged)


async def relayed_between(after: int, before: int | None, organizations: Iterable[str]) -> list[Envelope]:
    """The events relayed at positions in (`after`, `before`) (`before` None: to the last one) for
    `organizations`, in position order: what a server missed of the bus (a publish dropped while
    Redis was away), read back from the relay's log. At most MAX_GAP: past it a gap is left to the
    clients' own `since`."""
    logged = RelayedEvent.filter(organization_id__in=list(organizations), position__gt=after)
    if before is not None:
        logged = logged.filter(position__lt=before)
    return await _envelopes(logged.order_by("position").limit(MAX_GAP))


async def _envelopes(logged: QuerySet[RelayedEvent]) -> list[Envelope]:
    """The envelopes of the relay log's rows `logged`, in its order (an event deleted since is left out)."""
    found = await logged.values_list("position", "seq")
    rows = {e.seq: e for e in await Event.filter(seq__in=[seq for _, seq in found])}
    return [envelope(Committed.of(rows[seq], position)) for position, seq in found if seq in rows]


async def _floor(organization_id: str, since: int | datetime) -> int:
    """The seq after which a replay starts: `since` itself, or the last one relayed before the
    timestamp (less the margin); relay positions and relay times grow together."""
    if isinstance(since, int):
        return since
    if since < datetime.min.replace(tzinfo=UTC) + REPLAY_CLOCK_MARGIN:  # nothing was relayed that early
        return 0
    before = RelayedEvent.filter(organization_id=organization_id, relayed_at__lte=since - REPLAY_CLOCK_MARGIN)
    last = await before.order_by("-position").first()
    return last.position if last is not None else 0
