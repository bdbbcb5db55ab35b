"""Forwarding a gateway call upstream, at most once, and recording what the upstream answered.

A call row is claimed with a conditional update (``waiting`` -> ``calling``) before the upstream is
called, so whoever forwards it (the agent's retry or the worker that watches approvals) does it
once. The params sent are the action's effective params (an approver's edit, if any, checked against
the tool's input schema when it was made: resolvers/mcp/arguments.py). A call whose
upstream cannot be reached ends ``failed``, not retried: a tool call is not known to be idempotent,
and a second attempt could act twice. The result stays on the row; agents read it with
``get_action`` or by calling the tool again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, Final

from tortoise.expressions import Q, Subquery
from tortoise.fields.data import JSON_DUMPS

from app.core.after_commit import atomic
from app.core.causes import first_leaf
from app.core.clock import utcnow
from app.core.ids import new_id, random_base62
from app.core.mcp_client import CallToolResult, UpstreamSession, call_upstream_tool
from app.core.outages import outlasting
from app.core.storable import storable_json, storable_text
from models.db import connection_for_one_statement, is_postgres, pg_execute, pg_fetch
from models.governance import Action
from models.mcp import McpCall, McpServer
from resolvers.context import Context, Services
from resolvers.errors import Forbidden
from resolvers.events.outbox import DECISION_EVENTS, Committed, emit, schedule_wake, wake_after_commit
from resolvers.events.relay import add_sink
from resolvers.governance.outcome import effective_params
from resolvers.mcp.catalogue import held, listed_tool, on_upstream
from resolvers.workflows.runner import system_context

BATCH = 50
UNDECIDED = "pending_approval"
# A call `calling` for longer than any attempt can take (a listing and a call, each bounded by the
# upstream session's 30 s, twice when its revision is asked again) lost the process making it.
STRANDED_AFTER = timedelta(minutes=5)
STRANDED = ("the process making this call stopped before it recorded an answer; whether the upstream ran it "
            "is unknown (the call is not made again: it may not be idempotent)")
FORWARD_WAKE_CHANNEL = "gatehouse:mcp:forward"
# How long an upstream's answer waits for the database to come back to be recorded: the upstream
# has acted, and a call left `calling` is failed as "unknown" only after STRANDED_AFTER.
RECORD_THROUGH_OUTAGE_SECONDS = 120.0


async def forward(ctx: Context, call: McpCall, action: Action, server: McpServer | None = None) -> McpCall:
    """Call the upstream for an approved action's call row, unless someone already claimed it."""
    claimed = await McpCall.filter(id=call.id, status="waiting").update(status="calling", claimed_at=utcnow())
    if not claimed:
        return await McpCall.get(id=call.id)
    return await call_upstream(ctx, call, action, server or await McpServer.get(id=call.server_id), decided_later=True)


async def call_upstream(ctx: Context, call: McpCall, action: Action, server: McpServer, *,
                        decided_later: bool = False) -> McpCall:
    """Make a claimed call (`calling`) upstream and record what came back, with its event. A call
    `decided_later` (a human approved it since it was proposed) checks the tool against a fresh
    listing: its schema may have changed while the call waited; so may the server's URL, and the
    approval was not for another upstream."""
    params = effective_params(action)

    async def make(upstream: UpstreamSession) -> CallToolResult:
        listed = await listed_tool(server, upstream, call.tool, fresh=decided_later)
        # decided at once, the call was judged on this very listing (gateway._offer): no second fingerprint
        if decided_later and listed is not None and held(server, listed):
            raise Forbidden(f"tool {call.tool!r} changed its schema since the call was proposed; it is held back "
                            "until an operator admits the new schema")
        return await call_upstream_tool(upstream, call.tool, params, listed)

    encoded = None
    try:
        if call.url is not None and call.url != server.url:  # pointed at another upstream while the call waited
            raise Forbidden("the MCP server's URL changed since the call was proposed: propose it again")
        answer = await on_upstream(ctx, server, make)
        call.result = storable_json(answer.model_dump(mode="json", by_alias=True, exclude_none=True))
        encoded, call.status = JSON_DUMPS(call.result), "completed"
    except Exception as exc:  # any failure is recorded; nothing is retried (see the module docstring)
        call.status, call.result = "failed", None
        call.error = f"MCP server {server.name!r} failed: {_described(exc)}"[:2000]
    call.finished_at = utcnow()
    await outlasting(lambda: _record(ctx, call, encoded, server), seconds=RECORD_THROUGH_OUTAGE_SECONDS)
    return call


async def _record(ctx: Context, call: McpCall, encoded: str | None, server: McpServer) -> None:
    """The call's outcome and its event, once: only a call still `calling` is recorded, so an attempt
    made again after its commit was lost with the connection (or after the call was found stranded)
    changes nothing and emits nothing twice."""
    event, data = _outcome_event(call, server)
    conn = connection_for_one_statement()
    if conn is not None:
        await pg_execute(_RECORD_PG, call.id, call.status, encoded, call.error, call.finished_at, new_id("evt"), event,
                         JSON_DUMPS(data), conn=conn)
        schedule_wake(ctx.services)
        return
    async with atomic():
        recorded = await McpCall.filter(id=call.id, status="calling").update(
            status=call.status, result=call.result, error=call.error, finished_at=call.finished_at)
        if recorded:
            await emit(ctx.services, call.organization_id, event, data)


def _outcome_event(call: McpCall, server: McpServer) -> tuple[str, dict[str, Any]]:
    """The event a finished call emits: its type and data."""
    event = "mcp.call_completed" if call.status == "completed" else "mcp.call_failed"
    return event, {"actionId": call.action_id, "mcpServerId": server.id, "server": server.name, "tool": call.tool,
                   "isError": bool((call.result or {}).get("isError")), "error": call.error}


# PostgreSQL: the call's outcome and its event (with its relay queue entry) in one statement, its own
# transaction: through the ORM they were BEGIN, UPDATE, two INSERTs and COMMIT, about 2 ms of a
# forwarded call's time at concurrency 1 (the gateway's overhead was 10 ms).
_RECORD_PG: Final = """
WITH c AS (
    UPDATE mcp_calls SET status = $2::varchar, result = $3::jsonb, error = $4::text, finished_at = $5::timestamptz
    WHERE id = $1::varchar AND status = 'calling'
    RETURNING organization_id
), e AS (
    INSERT INTO events (id, organization_id, type, data, created_at)
    SELECT $6::varchar, c.organization_id, $7::varchar, $8::jsonb, $5::timestamptz FROM c
    RETURNING seq
)
INSERT INTO events_unrelayed (seq) SELECT seq FROM e
"""


def _described(exc: BaseException) -> str:
    """The failure's type and text, from inside the SDK's task groups that wrap what a session raises
    ("ExceptionGroup: unhandled errors in a TaskGroup" tells the agent nothing); a NUL the upstream
    put in its message is replaced (no column takes one)."""
    leaf = first_leaf(exc)
    return storable_text(f"{type(leaf).__name__}: {leaf}")


# PostgreSQL: the decided actions with a waiting call, as one prepared statement. The pass runs after
# every relayed batch that decides actions, and nearly always finds none: built by Tortoise (a
# subquery and an exclusion) the look was 2.2% of figure 6's worker, where no call ever waits.
_DECIDED_PG: Final = """
SELECT a.id FROM actions a
WHERE a.id IN (SELECT c.action_id FROM mcp_calls c WHERE c.status = 'waiting') AND a.status <> $1
LIMIT $2
"""


async def _decided_action_ids() -> list[str]:
    """The ids of up to BATCH decided actions whose gateway call still waits."""
    if is_postgres():
        return [row[0] for row in await pg_fetch(_DECIDED_PG, UNDECIDED, BATCH)]
    waiting = Subquery(McpCall.filter(status="waiting").values("action_id"))
    return [action.id for action in await Action.filter(id__in=waiting).exclude(status=UNDECIDED).limit(BATCH)]


async def forward_decided(services: Services) -> int:
    """One pass of the worker: forward waiting calls whose action was approved, drop the refused."""
    ids = await _decided_action_ids()
    if not ids:
        return 0
    decided = await Action.filter(id__in=ids)
    calls = {c.action_id: c for c in await McpCall.filter(action_id__in=[a.id for a in decided], status="waiting")}
    for action in decided:
        call = calls.get(action.id)
        if call is None:
            continue
        if action.status != "approved":
            await McpCall.filter(id=call.id, status="waiting").update(status="dropped", finished_at=utcnow())
            continue
        ctx = await system_context(services, call.organization_id, random_base62(20))
        await forward(ctx, call, action)
    return len(ids)  # a full batch of ids: look again at once, even if one of them was deleted meanwhile


async def settle_stranded(services: Services) -> int:
    """Fail the calls left `calling` by a process that died mid-call (killed, crashed): without
    this they read "being forwarded" for ever. Each gets its `mcp.call_failed` event."""
    cutoff = utcnow() - STRANDED_AFTER  # a row claimed before claims were stamped: its creation instead
    lost = Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, created_at__lt=cutoff)
    stranded = await McpCall.filter(lost, status="calling").limit(BATCH)
    for call in stranded:
        call.status, call.result, call.error, call.finished_at = "failed", None, STRANDED, utcnow()
        async with atomic():
            if not await McpCall.filter(id=call.id, status="calling").update(status="failed", error=STRANDED,
                                                                              finished_at=call.finished_at):
                continue  # it finished meanwhile
            server = await McpServer.get(id=call.server_id)  # a call goes with its server (cascade)
            await emit(services, call.organization_id, *_outcome_event(call, server))
    return len(stranded)


async def result_of(ctx: Context, action_id: str) -> dict[str, Any] | None:
    """What the gateway recorded for an action: the upstream's answer once it ran."""
    call = await McpCall.get_or_none(action_id=action_id, organization_id=ctx.organization_id)
    if call is None:
        return None
    return {"status": call.status, "tool": call.tool, "result": call.result, "error": call.error}


@add_sink
async def wake_forwarders(services: Services, events: list[Committed]) -> None:
    """A relayed batch that decides actions wakes the forwarders after its commit: a gateway call
    may wait for one of them. A one-byte wake on a channel of its own: the forwarders used to hear
    every relayed batch (EVENTS_CHANNEL) and look for approvals in it, which during a burst was 2-4%
    of a worker's CPU spent receiving and scanning events meant for subscribers."""
    if any(event.type in DECISION_EVENTS for event in events):
        wake_after_commit(services.bus, FORWARD_WAKE_CHANNEL)


async def run_forwarder(services: Services, stop: asyncio.Event, wake: asyncio.Event) -> None:
    """Forward as approvals arrive (woken by events) and at least every second."""
    while not stop.is_set():
        while await forward_decided(services) == BATCH:
            pass
        while await settle_stranded(services) == BATCH:
            pass
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), 1.0)
