"""WebSocket subscriber fleet: N graphql-transport-ws subscribers, proposals at a fixed rate over HTTP.

Measures, for every (proposal, subscriber) pair, the time from the proposal's HTTP answer to the
subscriber's receipt of the event that names the proposal's action id; and the delivered share.
Proposer and subscribers live in one process so both sides read the same clock. Receipts are only
timestamped while the run goes on (parsing happens afterwards) so the client's own cost stays small;
its CPU time is reported so a saturated client can be told apart from a slow server.

The action id is found in each event by the pattern `act_...`, so the same fleet works for any
selection that includes the action's id (Gatehouse's `pendingApprovals` and the baseline's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

from bench.httpclient import Pool, Target, encode_request
from bench.load import path_of
from bench.stats import latency_summary_ms
from bench.sysstat import Reading, cores_used, process_memory_kb

ACTION_ID = re.compile(rb"act_[A-Za-z0-9_\-]+")
DEFAULT_QUERY = "subscription { pendingApprovals { event approval { id status } action { id type status } } }"
DEFAULT_PROPOSAL: dict[str, Any] = {
    "type": "send_email",
    "actor": {"kind": "agent", "name": "bench-bot", "provider": "openai"},
    "target": "user@example.com",
    "params": {"subject": "Welcome!", "body": "Thanks for signing up"},
}


@dataclass
class FleetSpec:
    ws_url: str
    propose_url: str
    subscribers: int = 1000
    rate: float = 10.0
    duration: float = 20.0
    api_key: str | None = None
    query: str = DEFAULT_QUERY
    proposal: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PROPOSAL))
    connect_concurrency: int = 50
    settle_timeout: float = 15.0
    drain_timeout: float = 30.0
    server_pid: int | None = None


@dataclass
class Subscriber:
    """One connection's receipts: (perf_counter time, raw frame) in arrival order."""

    ws: ClientConnection
    receipts: list[tuple[float, bytes]] = field(default_factory=list)
    closed_reason: str | None = None
    task: asyncio.Task[None] | None = None


async def _subscribe(spec: FleetSpec, number: int) -> Subscriber:
    """Open, init, wait for the ack, subscribe; compression off so frames cost the least."""
    ws = await connect(
        spec.ws_url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        compression=None,
        ping_interval=None,
        open_timeout=30,
        max_queue=None,
    )
    init: dict[str, Any] = {"type": "connection_init"}
    if spec.api_key is not None:
        init["payload"] = {"apiKey": spec.api_key}
    await ws.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"subscriber {number}: expected connection_ack, got {ack}")
    await ws.send(json.dumps({"id": "s1", "type": "subscribe", "payload": {"query": spec.query}}))
    return Subscriber(ws)


async def _receive(subscriber: Subscriber) -> None:
    """Timestamp every frame; answer protocol pings so the server keeps the connection."""
    try:
        async for frame in subscriber.ws:
            raw = frame.encode() if isinstance(frame, str) else frame
            if b'"ping"' in raw[:40]:
                await subscriber.ws.send('{"type":"pong"}')
                continue
            subscriber.receipts.append((time.perf_counter(), raw))
    except WebSocketException as exc:
        subscriber.closed_reason = repr(exc)
    else:
        subscriber.closed_reason = f"closed {subscriber.ws.close_code}"


async def _open_fleet(spec: FleetSpec) -> tuple[list[Subscriber], list[str]]:
    gate = asyncio.Semaphore(spec.connect_concurrency)
    failures: list[str] = []

    async def one(number: int) -> Subscriber | None:
        async with gate:
            try:
                return await _subscribe(spec, number)
            except (OSError, WebSocketException, RuntimeError, TimeoutError) as exc:
                failures.append(repr(exc)[:200])
                return None

    opened = await asyncio.gather(*(one(n) for n in range(spec.subscribers)))
    fleet = [s for s in opened if s is not None]
    for subscriber in fleet:
        subscriber.task = asyncio.create_task(_receive(subscriber))
    return fleet, failures


class Proposer:
    """Posts proposals and keeps each action id's answer time."""

    def __init__(self, spec: FleetSpec) -> None:
        target = Target.from_url(spec.propose_url)
        headers = {"content-type": "application/json"}
        if spec.api_key is not None:
            headers["authorization"] = f"Bearer {spec.api_key}"
        body = json.dumps(spec.proposal).encode()
        self.raw = encode_request(target, "POST", path_of(spec.propose_url), headers, body)
        self.pool = Pool(target)
        self.answered: dict[bytes, tuple[float, float]] = {}  # action id -> (sent at, answered at)
        self.answer_latencies: list[float] = []
        self.failures: list[str] = []

    async def propose(self) -> bytes | None:
        """One proposal; returns its action id (None, recorded, on failure)."""
        sent_at = time.perf_counter()
        try:
            response = await self.pool.send(self.raw)
        except (ConnectionError, OSError) as exc:
            self.failures.append(repr(exc)[:200])
            return None
        answered_at = time.perf_counter()
        self.answer_latencies.append(answered_at - sent_at)
        match = ACTION_ID.search(response.body)
        if not 200 <= response.status < 300 or match is None:
            self.failures.append(f"{response.status}: {response.body[:200]!r}")
            return None
        self.answered[match.group()] = (sent_at, answered_at)
        return match.group()

    async def at_rate(self, rate: float, duration: float) -> dict[bytes, tuple[float, float]]:
        """Open loop: proposal i leaves at start + i/rate whatever earlier ones are doing."""
        measured: dict[bytes, tuple[float, float]] = {}
        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * duration)):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(self.propose()))
        for action_id in await asyncio.gather(*tasks):
            if action_id is not None:
                measured[action_id] = self.answered[action_id]
        return measured


def _seen(subscriber: Subscriber, since: int, action_id: bytes | None = None) -> int:
    frames = subscriber.receipts[since:]
    if action_id is None:
        return len(frames)
    return sum(1 for _, raw in frames if action_id in raw)


async def _wait_until(predicate: Any, limit_s: float) -> float:
    """Poll a cheap predicate every 50 ms, at most `limit_s`; returns the time waited."""
    start = time.perf_counter()
    for _ in range(int(limit_s / 0.05) + 1):
        if predicate() or time.perf_counter() - start >= limit_s:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - start


async def _settle(spec: FleetSpec, fleet: list[Subscriber], proposer: Proposer) -> int:
    """Propose once and wait until every subscriber has it: proves every subscription is live."""
    for _ in range(3):
        action_id = await proposer.propose()
        if action_id is None:
            await asyncio.sleep(0.5)
            continue
        await _wait_until(lambda aid=action_id: all(_seen(s, 0, aid) for s in fleet), spec.settle_timeout)
        return sum(1 for s in fleet if _seen(s, 0, action_id))
    return 0


def _analyse(fleet: list[Subscriber], marks: list[int], measured: dict[bytes, tuple[float, float]]) -> dict[str, Any]:
    """Answer-to-receipt (the figure) and send-to-receipt (which also shows a server too busy to
    answer proposals promptly, something answer-to-receipt alone hides) per delivered event."""
    latencies: list[float] = []
    from_sent: list[float] = []
    errors = 0
    for subscriber, mark in zip(fleet, marks, strict=True):
        got: set[bytes] = set()
        for received_at, raw in subscriber.receipts[mark:]:
            if b'"errors"' in raw or b'"type":"error"' in raw:
                errors += 1
            match = ACTION_ID.search(raw)
            if match and match.group() in measured and match.group() not in got:
                got.add(match.group())
                sent_at, answered_at = measured[match.group()]
                latencies.append(received_at - answered_at)
                from_sent.append(received_at - sent_at)
    expected = len(measured) * len(fleet)
    return {
        "expected": expected,
        "delivered": len(latencies),
        "delivered_share": round(len(latencies) / expected, 4) if expected else None,
        "event_errors": errors,
        "latency_ms": latency_summary_ms(latencies),
        "from_sent_ms": latency_summary_ms(from_sent),
    }


async def _close_fleet(fleet: list[Subscriber]) -> None:
    async def close(subscriber: Subscriber) -> None:
        with contextlib.suppress(TimeoutError, WebSocketException, OSError):
            await asyncio.wait_for(subscriber.ws.close(), timeout=5)
        if subscriber.task is not None:
            subscriber.task.cancel()

    await asyncio.gather(*(close(s) for s in fleet))


def _cpu_report(before: Reading, after: Reading, delivered: int) -> dict[str, Any]:
    server = None
    if before.server_cpu is not None and after.server_cpu is not None:
        server = after.server_cpu - before.server_cpu
    return {
        "server_cpu_s": None if server is None else round(server, 3),
        "server_cpu_us_per_delivery": round(server * 1e6 / delivered, 1) if server and delivered else None,
        "client_cpu_s": round(after.client_cpu - before.client_cpu, 3),
        "cores": cores_used(before, after),
    }


async def _measure(
    spec: FleetSpec, fleet: list[Subscriber], proposer: Proposer
) -> tuple[list[int], dict[bytes, tuple[float, float]], float]:
    """Propose at the rate, then wait (bounded) until every subscriber has as many new frames."""
    marks = [len(s.receipts) for s in fleet]
    measured = await proposer.at_rate(spec.rate, spec.duration)

    def drained() -> bool:
        return all(_seen(s, m) >= len(measured) for s, m in zip(fleet, marks, strict=True))

    return marks, measured, await _wait_until(drained, spec.drain_timeout)


async def run_fleet(spec: FleetSpec) -> dict[str, Any]:
    """Connect the fleet, settle it, propose at `rate` for `duration`, drain, then analyse."""
    memory = {"before_kb": process_memory_kb(spec.server_pid)}
    started = time.perf_counter()
    fleet, connect_failures = await _open_fleet(spec)
    connect_s = time.perf_counter() - started
    memory["connected_kb"] = process_memory_kb(spec.server_pid)
    proposer = Proposer(spec)
    settled = await _settle(spec, fleet, proposer)
    before = Reading.now(spec.server_pid)
    marks, measured, drain_s = await _measure(spec, fleet, proposer)
    after = Reading.now(spec.server_pid)
    phase_s = after.wall - before.wall
    memory["after_kb"] = process_memory_kb(spec.server_pid)
    closed_early = [s.closed_reason for s in fleet if s.closed_reason is not None]
    await _close_fleet(fleet)
    proposer.pool.close()
    result = _analyse(fleet, marks, measured)
    return {
        **result,
        **_cpu_report(before, after, result["delivered"]),
        "subscribers": len(fleet),
        "subscribers_requested": spec.subscribers,
        "connect_failure_count": len(connect_failures),
        "connect_failures": connect_failures[:5],
        "connect_s": round(connect_s, 2),
        "settled_subscribers": settled,
        "proposals": len(measured),
        "proposal_failures": proposer.failures[:5],
        "proposal_answer_ms": latency_summary_ms(proposer.answer_latencies),
        "drain_wait_s": round(drain_s, 2),
        "measured_phase_s": round(phase_s, 2),
        "closed_early": len(closed_early),
        "closed_early_reasons": closed_early[:5],
        "server_memory_kb": memory,
    }


def add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--propose-url", required=True)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--query", default=DEFAULT_QUERY)
    parser.add_argument("--proposal", default=None, help="proposal body as JSON")
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument("--server-pid", type=int, default=None)


async def fleet_from_args(args: argparse.Namespace) -> dict[str, Any]:
    spec = FleetSpec(
        ws_url=args.ws_url,
        propose_url=args.propose_url,
        subscribers=args.subscribers,
        rate=args.rate,
        duration=args.duration,
        api_key=args.api_key,
        query=args.query,
        drain_timeout=args.drain_timeout,
        server_pid=args.server_pid,
    )
    if args.proposal:
        spec.proposal = json.loads(args.proposal)
    return await run_fleet(spec)
