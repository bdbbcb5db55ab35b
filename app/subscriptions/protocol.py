"""graphql-transport-ws and the legacy graphql-ws, spoken to one client per Connection.

Close codes (graphql-transport-ws): 4400 malformed message, 4401 subscribe before the ack, 4403 bad
or revoked key (also when a key is revoked while connected, or its agent is disabled), 4406 unknown
subprotocol, 4408 no `connection_init` in time, 4409 duplicate operation id, 4429 second
`connection_init`; and 1008 when the key already holds settings.ws_max_connections_per_key acknowledged
connections on this server (policy: clients such as graphql-ws do not retry it on their own).
Gatehouse adds 1013 "try again later": the client's bounded send queue is full
(it stopped reading or reads too slowly), or PostgreSQL or Redis was unreachable when the connection
needed it (a handshake, a subscribe, a `since` replay); and 1011 for anything else that broke it.
The connection is closed rather than silently dropping events: a dashboard reconnects and
resubscribes to pendingApprovals with `since` = the last seq it saw, and the replay fills the gap. A
client that stopped reading usually cannot receive that close frame (its socket buffers are full):
after CLOSE_TIMEOUT_SECONDS the TCP connection is dropped and the client sees 1006. Memory per
connection is bounded by the queue (settings.ws_send_queue_frames frames, each one rendered event)
plus the transport's write buffer (its 64 KB high-water mark: sends wait below it).

Keep-alive: legacy graphql-ws clients get `ka` right after `connection_ack`, then every
settings.ws_keepalive_seconds. graphql-transport-ws clients send `ping` (any time, even before
`connection_init`) and get `pong`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.auth import Authenticator, Caller, presented_key
from app.context import client_address_of, context_for
from app.core.outages import UNAVAILABLE_MESSAGE, is_outage
from app.subscriptions.documents import Documents, OperationError, Prepared, error_payload
from app.subscriptions.hub import Hub, Subscriber
from app.subscriptions.sending import SendQueue
from resolvers.agents import killswitch
from resolvers.context import Context, Services
from resolvers.errors import DomainError
from resolvers.events import feeds
from resolvers.validation import WIDE_REFUSED, loses_integers
from schema.context import GraphQLContext
from schema.realtime.subscriptions import FEEDS

TRANSPORT_WS, LEGACY_WS = "graphql-transport-ws", "graphql-ws"
CLOSE_TIMEOUT_SECONDS = 1.0
_RUNNING: set[asyncio.Task[None]] = set()  # queries and mutations, finishing after their client left
_log = logging.getLogger("gatehouse.subscriptions")


def _key_from_init(payload: Any, upgrade_key: str | None) -> str | None:
    """The key from connection_init's payload (apiKey or Authorization), else the upgrade headers."""
    if isinstance(payload, dict):
        lowered = {str(k).lower(): v for k, v in payload.items() if isinstance(v, str)}
        from_payload = lowered.get("apikey") or presented_key(lowered)
        if from_payload:
            return from_payload
    return upgrade_key


class Connection:
    """One WebSocket client: handshake, operations, and a bounded send queue (sending.SendQueue)."""

    def __init__(self, ws: WebSocket, protocol: str, documents: Documents, hub: Hub) -> None:
        self.ws, self.protocol, self.documents, self.hub = ws, protocol, documents, hub
        state = ws.app.state
        self.services: Services = state.services
        self.authenticator: Authenticator = state.authenticator
        self.settings = self.services.settings
        self.queue = SendQueue(self.ws.send_text, self.settings.ws_send_queue_frames, self._sent_failed)
        self.key_id: str | None = None
        self.agent_id: str | None = None  # the agent the key is bound to: its kill switch closes this
        self.secret: str | None = None
        self.acked = False
        self.operations: dict[str, Subscriber | asyncio.Task[None]] = {}
        self._close: tuple[int, str] | None = None
        self._done = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()  # replays and the keep-alive, ended with the connection
        self._replays: dict[Subscriber, asyncio.Task[None]] = {}  # each subscription's replay while it runs

    # -- what the hub calls -------------------------------------------------------------------
    def push(self, frame: str) -> None:
        """Queue a frame without waiting; a full queue closes the connection with 1013."""
        if not self.queue.put_nowait(frame):
            self.close_soon(1013, "send queue full: reconnect and resubscribe with since")

    def close_soon(self, code: int, reason: str) -> None:
        if self._close is None:
            self._close = (code, reason)
        self._done.set()

    # -- lifecycle ------------------------------------------------------------------------------
    async def run(self) -> None:
        await self.ws.accept(subprotocol=self.protocol)
        reader = asyncio.create_task(self._read())
        try:
            await self._done.wait()
        finally:
            self.queue.cancel()
            for task in (reader, *self._tasks):
                task.cancel()
            self._leave_all()
            self.hub.detach(self)
            if self._close is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.ws.close(*self._close), CLOSE_TIMEOUT_SECONDS)

    def _sent_failed(self) -> None:
        self._done.set()

    async def _read(self) -> None:
        """Read until the client leaves or breaks the protocol; whatever ends the reader ends the
        connection (a reader that died unnoticed left the socket open, unanswered, for ever)."""
        try:
            await self._await_init()
            while self._close is None:
                await self._on_message(*await self._receive())
        except WebSocketDisconnect:
            pass
        except TimeoutError:
            self.close_soon(4408, "Connection initialisation timeout")
        except Exception as exc:  # ended without a close frame (1006) before: say why
            self._failed(exc)
        finally:
            self._done.set()

    async def _receive(self) -> tuple[dict[str, Any], bool]:
        """The next message, and whether it holds an integer past 64 bits: orjson reads one as a float,
        which a mutation stored as such while the same variables over HTTP are refused."""
        frame = await self.ws.receive()
        if frame["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(frame.get("code", 1000))
        text = frame.get("text")
        if text is None:  # a binary frame: graphql-transport-ws speaks JSON text only
            self.close_soon(4400, "Invalid message received: binary frames are not accepted")
            raise WebSocketDisconnect(4400)
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            self.close_soon(4400, "Invalid message received")
            raise WebSocketDisconnect(4400)
        return message, loses_integers(text)

    async def _await_init(self) -> None:
        async with asyncio.timeout(self.settings.ws_init_timeout_seconds):
            while not self.acked and self._close is None:
                await self._on_message(*await self._receive())

    # -- messages -------------------------------------------------------------------------------
    async def _on_message(self, message: dict[str, Any], wide: bool = False) -> None:
        kind = message["type"]
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            self.push(orjson.dumps({"type": "pong"}).decode())
        elif kind in ("subscribe", "start"):
            await self._subscribe(message, wide)
        elif kind in ("complete", "stop"):
            self._stop(str(message.get("id", "")))
        elif kind == "connection_terminate":
            self.close_soon(1000, "terminated")
        elif kind != "pong":
            self.close_soon(4400, f"Unknown message type {kind[:40]}")

    async def _init(self, payload: Any) -> None:
        if self.acked:
            self.close_soon(4429, "Too many initialisation requests")
            return
        self.secret = _key_from_init(payload, presented_key(self.ws.headers))
        caller = await self.authenticator.authenticate(self.secret)
        if caller is None:
            self.close_soon(4403, "Forbidden: missing, invalid or revoked API key")
            return
        if caller.agent_id is not None and not await killswitch.enabled(caller.organization_id, caller.agent_id):
            self.close_soon(4403, "Forbidden: the agent of this API key is disabled")
            return
        most = self.settings.ws_max_connections_per_key
        if self.hub.connections_of(caller.key_id) >= most:  # checked and attached with no await between
            self.close_soon(1008, f"Too many open connections for this API key: at most {most} on this server")
            return
        self.key_id, self.agent_id, self.acked = caller.key_id, caller.agent_id, True
        self.hub.attach(self)
        self.push('{"type":"connection_ack"}')
        if self.protocol == LEGACY_WS:
            self._spawn(self._keep_alive())

    async def _keep_alive(self) -> None:
        """Legacy clients (subscriptions-transport-ws) expect `ka` right after the ack and then
        periodically, and may treat a quiet connection as dead. graphql-transport-ws has no `ka`:
        its clients send `ping` and get `pong` (see _on_message)."""
        while True:
            self.push('{"type":"ka"}')
            await asyncio.sleep(self.settings.ws_keepalive_seconds)

    async def _caller(self) -> Caller | None:
        """Authentication is checked on every subscribe, not only at the handshake."""
        if not self.acked:
            self.close_soon(4401, "Unauthorized")
            return None
        caller = await self.authenticator.authenticate(self.secret)
        if caller is None:
            self.close_soon(4403, "Forbidden: API key revoked")
        return caller

    async def _subscribe(self, message: dict[str, Any], wide: bool) -> None:
        caller = await self._caller()
        op_id, payload = message.get("id"), message.get("payload")
        if caller is None:
            return
        if not isinstance(op_id, str) or not op_id or len(op_id) > 128 or not isinstance(payload, dict):
            self.close_soon(4400, "Invalid subscribe message")
        elif op_id in self.operations:
            self.close_soon(4409, f"Subscriber for {op_id[:40]} already exists")
        elif wide:  # refused as the HTTP door refuses the body, before anything runs
            self._error(op_id, error_payload(WIDE_REFUSED, "VALIDATION_ERROR"))
        elif len(self.operations) >= self.settings.ws_max_subscriptions:
            self._error(op_id, error_payload(
                f"at most {self.settings.ws_max_subscriptions} operations per connection", "RATE_LIMITED"))
        else:
            await self._start(op_id, payload, caller)

    async def _start(self, op_id: str, payload: dict[str, Any], caller: Caller) -> None:
        query, variables, name = payload.get("query"), payload.get("variables"), payload.get("operationName")
        if not isinstance(query, str) or not isinstance(variables, dict | None) or not isinstance(name, str | None):
            self._error(op_id, error_payload("payload needs query (string), variables (object), operationName"))
            return
        ctx = context_for(caller, self.services, client_address=client_address_of(self.ws))
        try:
            if self.documents.is_subscription(query, name):
                await self._follow(op_id, self.documents.prepare(query, variables, name), ctx)
            else:
                self._once(op_id, query, variables, name, ctx, caller)
        except OperationError as exc:
            self._error(op_id, exc.errors)
        except DomainError as exc:
            self._error(op_id, error_payload(exc.message, exc.code))

    async def _follow(self, op_id: str, prepared: Prepared, ctx: Context) -> None:
        """Join the hub's group for `prepared`; with `since`, replay from the table first.

        Everything that can refuse the subscription (scope, arguments, the followed id, `since`)
        runs before joining, so a refused one leaves nothing behind.
        """
        feeds.authorize(ctx, prepared.field)
        feed = FEEDS[prepared.field]
        matcher = feed.matcher(prepared.arguments)
        await feeds.check_target(ctx, prepared.field, prepared.arguments)
        since = prepared.arguments.get("since")
        point = await feeds.replay_point(since) if feed.replays and since is not None else None
        subscriber = self.hub.join(self, self._prefix(op_id), ctx.organization_id, prepared, matcher, feed.payload)
        self.operations[op_id] = subscriber
        if point is not None:
            subscriber.held = []  # live events wait until the replay has caught up
            replay = self._spawn(self._replay(subscriber, ctx, point))
            self._replays[subscriber] = replay
            replay.add_done_callback(lambda _task: self._replays.pop(subscriber, None))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` beside the reader until the connection ends; a failure closes it with 1011."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        """Close for what broke the reader or a task: PostgreSQL or Redis unreachable is 1013, "try
        again later" (as REST answers 503: retrying works, alerting would not help), anything else
        1011 and an error in the log."""
        if is_outage(exc):
            _log.warning("WebSocket closed with 1013, a backing service is unavailable: %s",
                         f"{type(exc).__name__}: {exc}"[:300])
            self.close_soon(1013, UNAVAILABLE_MESSAGE)
        else:
            _log.error("WebSocket task failed", exc_info=exc)
            self.close_soon(1011, "internal error")

    async def _replay(self, subscriber: Subscriber, ctx: Context, point: int | datetime) -> None:
        """Events after `point` from the table, then the live ones held meanwhile, without duplicates.

        Replayed frames wait for queue space instead of closing with 1013: the replay goes at the
        client's pace, and live events are held (bounded) meanwhile.
        """
        last: int | None = None
        while batch := await feeds.replay_batch(ctx, point, last):
            for event in batch:
                last = event["seq"]
                if subscriber.group.matcher(event):
                    await self.queue.put(subscriber.frame(self.hub.render(subscriber.group, event)))
        subscriber.release(last if last is not None else (point if isinstance(point, int) else 0))

    def _once(
        self, op_id: str, query: str, variables: dict | None, name: str | None, ctx: Context, caller: Caller
    ) -> None:
        """Queries and mutations go through Strawberry (extensions, error codes), then complete. Each
        counts against the key's rate limit, as the same operation over HTTP does.

        Once started, an operation runs to its end even if the client completes it or leaves, as an
        HTTP request whose client goes away does: cancelled in the middle, a mutation was left half
        done (disableAgent committed, the agent's pending actions not rejected). Only its answer is
        then dropped."""

        async def run() -> None:
            limit = caller.rate_limit or self.settings.default_rate_limit
            if not (await self.ws.app.state.limiter.hit(caller.key_id, limit)).allowed:
                if self._answering(op_id):
                    self._error(op_id, error_payload("rate limit exceeded for this API key", "RATE_LIMITED"))
                return
            result = await self.documents.schema.execute(
                query, variables, context_value=GraphQLContext(ctx=ctx), operation_name=name
            )
            body: dict[str, Any] = {"data": result.data}
            if result.errors:
                body["errors"] = [e.formatted for e in result.errors]
            if self._answering(op_id):
                self.push(self._prefix(op_id) + orjson.dumps(body).decode() + "}")
                self._complete(op_id)

        task = asyncio.create_task(run())
        _RUNNING.add(task)  # held until done: the connection may end first
        task.add_done_callback(_RUNNING.discard)
        self.operations[op_id] = task

    def _answering(self, op_id: str) -> bool:
        """Whether the client still waits for the operation of the running task under `op_id` (it did
        not complete it, nor reuse the id since); then it is forgotten, as it is answered."""
        if self.operations.get(op_id) is not asyncio.current_task():
            return False
        del self.operations[op_id]
        return True

    def _stop(self, op_id: str, *, ending: bool = False) -> None:
        """End an operation: no frame of it is sent after this (its replay stops, what waits is dropped),
        so an id the client completes and reuses carries only its new operation's data."""
        operation = self.operations.pop(op_id, None)
        if isinstance(operation, Subscriber):
            self.hub.leave(operation)
            replay = self._replays.pop(operation, None)
            if replay is not None:
                replay.cancel()
        # a query or mutation (a task) is not cancelled: it finishes, and _answering drops its answer
        if not ending:  # the connection itself ending sends nothing more anyway
            self.queue.drop(self._prefix(op_id))

    def _leave_all(self) -> None:
        for op_id in tuple(self.operations):
            self._stop(op_id, ending=True)

    # -- frames ---------------------------------------------------------------------------------
    def _prefix(self, op_id: str) -> str:
        kind = "next" if self.protocol == TRANSPORT_WS else "data"
        return '{"type":"' + kind + '","id":' + orjson.dumps(op_id).decode() + ',"payload":'

    def _error(self, op_id: str, errors: list[dict[str, Any]]) -> None:
        payload: Any = errors if self.protocol == TRANSPORT_WS else errors[0]
        self.push(orjson.dumps({"type": "error", "id": op_id, "payload": payload}).decode())

    def _complete(self, op_id: str) -> None:
        self.push(orjson.dumps({"type": "complete", "id": op_id}).decode())


class GraphQLWebSocket:
    """The ASGI endpoint for WebSocket upgrades on /graphql."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        offered = scope.get("subprotocols") or []
        protocol = next((p for p in (TRANSPORT_WS, LEGACY_WS) if p in offered), None)
        if protocol is None:
            await ws.accept()
            await ws.close(4406, "Subprotocol not acceptable")
            return
        await Connection(ws, protocol, self.documents, ws.app.state.hub).run()
