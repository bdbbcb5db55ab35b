"""The load generator for both Gatehouse and its baselines: the same client drives both sides.

Modes (each prints one JSON object on stdout):

    python -m bench.load http URL [-c 32] [-d 5] [-w 1] [-X POST] [-H 'k: v'] [--body JSON]
                                  [--paths FILE] [--check status|graphql]
    python -m bench.load graphql URL --query Q [--variables JSON] [-c 32] [-d 5] [-H 'k: v']
    python -m bench.load fleet --ws-url WS --propose-url URL [--subscribers 1000] [--rate 10]
                               [--duration 20] [--api-key KEY] [--query Q] [--server-pid PID]

`http`/`graphql` are closed-loop: N connections each send the next request as soon as the last
answer arrives, for D seconds after W seconds of warm-up; requests/s and latency percentiles cover
only what completed inside the measured window. Run it in its own process (the harness does): on
two cores the client then takes one core and the server the other.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.httpclient import Connection, Target, connect, encode_request
from bench.stats import latency_summary_ms
from bench.sysstat import Reading, cores_used

MAX_RECONNECTS_PER_WORKER = 50


@dataclass
class LoadSpec:
    """What to send, how hard and for how long."""

    url: str
    requests: list[bytes]
    connections: int = 32
    duration: float = 5.0
    warmup: float = 1.0
    check: str = "status"  # "status": 2xx; "graphql": 2xx and no "errors" in the body
    server_pid: int | None = None  # when known, the server's CPU over the window is reported


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    first_error: str | None = None

    def fail(self, what: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = what[:300]


def _is_ok(check: str, status: int, body: bytes) -> bool:
    if not 200 <= status < 300:
        return False
    return not (check == "graphql" and b'"errors"' in body)


async def _worker(
    spec: LoadSpec, target: Target, next_request: Any, window: tuple[float, float], tally: _Tally
) -> None:
    """One connection's closed loop; reconnects a bounded number of times if the server drops it."""
    measure_from, stop_at = window
    conn: Connection | None = None
    reconnects = 0
    while time.perf_counter() < stop_at and reconnects <= MAX_RECONNECTS_PER_WORKER:
        if conn is None or conn.closed:
            try:
                conn = await connect(target)
            except OSError as exc:
                reconnects += 1
                tally.fail(f"connect: {exc}")
                await asyncio.sleep(0.05)
                continue
        raw = next(next_request)
        started = time.perf_counter()
        try:
            response = await conn.send(raw)
        except (ConnectionError, OSError) as exc:
            reconnects += 1
            conn = None
            tally.fail(f"send: {exc}")
            continue
        done = time.perf_counter()
        if started < measure_from or done > stop_at:
            continue
        tally.statuses[response.status] += 1
        if _is_ok(spec.check, response.status, response.body):
            tally.latencies.append(done - started)
        else:
            tally.fail(f"{response.status}: {response.body[:200]!r}")
    if conn is not None:
        conn.close()


async def run_load(spec: LoadSpec) -> dict[str, Any]:
    """Drive `spec` and summarise: requests/s of successful answers, latency, errors, client CPU."""
    target = Target.from_url(spec.url)
    next_request = itertools.cycle(spec.requests)
    start = time.perf_counter()
    window = (start + spec.warmup, start + spec.warmup + spec.duration)
    tally = _Tally()
    workers = [_worker(spec, target, next_request, window, tally) for _ in range(spec.connections)]
    cores = asyncio.create_task(_cores_in_window(window, spec.server_pid))
    await asyncio.wait_for(asyncio.gather(*workers), timeout=spec.warmup + spec.duration + 30)
    used = await cores
    return {
        "requests": len(tally.latencies),
        "rps": round(len(tally.latencies) / spec.duration, 1),
        "errors": tally.errors,
        "first_error": tally.first_error,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "latency_ms": latency_summary_ms(tally.latencies),
        "connections": spec.connections,
        "duration_s": spec.duration,
        "cores": used,
        "server_cpu_us_per_request": _per_request_us(used["server"], spec.duration, len(tally.latencies)),
        "client_cpu_us_per_request": _per_request_us(used["client"], spec.duration, len(tally.latencies)),
    }


async def _cores_in_window(window: tuple[float, float], server_pid: int | None) -> dict[str, float | None]:
    """Cores used by client, server and machine over the measured window (warm-up excluded)."""
    await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))
    before = Reading.now(server_pid)
    await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
    return cores_used(before, Reading.now(server_pid))


def _per_request_us(cores: float | None, duration: float, requests: int) -> float | None:
    return None if cores is None or not requests else round(cores * duration * 1e6 / requests, 1)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def http_requests(
    url: str, method: str, headers: dict[str, str], body: bytes, paths: list[str] | None = None
) -> list[bytes]:
    """Pre-encoded requests: one, or one per path (cycled, e.g. GET /actions/{id} over many ids)."""
    target = Target.from_url(url)
    all_headers = dict(headers)
    if body:
        all_headers.setdefault("content-type", "application/json")
    return [encode_request(target, method, p, all_headers, body) for p in (paths or [path_of(url)])]


def graphql_requests(url: str, query: str, variables: dict[str, Any] | None, headers: dict[str, str]) -> list[bytes]:
    """GraphQL over HTTP: a POST of {"query", "variables"} as JSON."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    return http_requests(url, "POST", headers, body)


def _headers(values: list[str]) -> dict[str, str]:
    pairs = (value.split(":", 1) for value in values)
    return {name.strip(): rest.strip() for name, rest in pairs}


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("-w", "--warmup", type=float, default=1.0)
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--server-pid", type=int, default=None, help="report this process's CPU")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Gatehouse bench load generator")
    modes = parser.add_subparsers(dest="mode", required=True)
    http = modes.add_parser("http", help="closed-loop HTTP load")
    _add_load_options(http)
    http.add_argument("-X", "--method", default="GET")
    http.add_argument("--body", default="", help="request body (JSON text)")
    http.add_argument("--paths", help="file with one path per line, cycled instead of URL's path")
    http.add_argument("--check", choices=["status", "graphql"], default="status")
    graphql = modes.add_parser("graphql", help="closed-loop GraphQL-over-HTTP load")
    _add_load_options(graphql)
    graphql.add_argument("--query", required=True)
    graphql.add_argument("--variables", default="{}")
    from bench.fleet import add_fleet_arguments

    add_fleet_arguments(modes.add_parser("fleet", help="WebSocket subscriber fleet"))
    return parser


def _spec_from_args(args: argparse.Namespace) -> LoadSpec:
    headers = _headers(args.header)
    if args.mode == "graphql":
        requests = graphql_requests(args.url, args.query, json.loads(args.variables), headers)
        check = "graphql"
    else:
        paths = None
        if args.paths:
            with open(args.paths) as handle:
                paths = [line.strip() for line in handle if line.strip()]
        requests = http_requests(args.url, args.method.upper(), headers, args.body.encode(), paths)
        check = args.check
    return LoadSpec(args.url, requests, args.connections, args.duration, args.warmup, check, args.server_pid)


def main(argv: list[str] | None = None) -> None:
    import uvloop

    args = _parser().parse_args(argv)
    if args.mode == "fleet":
        from bench.fleet import fleet_from_args

        result = uvloop.run(fleet_from_args(args))
    else:
        result = uvloop.run(run_load(_spec_from_args(args)))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
