"""Figure 7's overhead per step: one-step workflow executions at concurrency 1, each paired with
the same call made directly with bare httpx.

    python -m bench.workflow_latency --execute-url URL --api-key KEY --call-url URL \
                                     --database-url DSN [-n 200] [--gap 0.05]

Per sample, after `--gap` idle seconds (the worker has relayed the last run's events: it is idle),
back to back: one direct call (`bench.baselines.direct_calls.direct_call`, timed around the awaited
call), then one execution: `POST .../execute` written on a kept-alive lean connection
(bench.httpclient, so the client's own cost stays out), then the execution row polled every 1 ms
until it is finished. A workflow's latency is from just before the execute request is written to
the poll that first sees it `completed` (its last checkpoint committed; the poll adds at most ~1 ms,
against us). Overhead = workflow latency - the direct call's latency of the same sample; p50 over
samples. Both ends are this process's clock; the breakdown below compares it with the server's
and worker's `utcnow()` (the same machine's wall clock).

The breakdown shows where the time goes, from the rows' own timestamps (each stamped just before
its transaction): `accept` (send to the server's `created_at`: auth, lookups), `pickup` (`created_at`
to the run's `started_at`: commit, wake over the bus, claim, loads, render), `step` (the step row's
`started_at` to `finished_at`: its start checkpoint and the call), `finish` (step finished to the
execution's `finished_at`: the step's checkpoint); from `finished_at` to seen is the last commit.
A wake that was lost would show as a pickup near the runner's poll interval (0.5 s) in the p90.

`wake_ms` puts the machine beside it: a bare `SELECT 1` on the bench's own connection after the
same idle gap, and back to back (p50 of each). Every hop of an execution (client, server, Redis,
PostgreSQL, listener, worker, receiver) starts from idle at concurrency 1, so on a machine whose
idle processors halt at once (a virtual machine without halt polling) each hop pays the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from bench.baselines.direct_calls import direct_call, new_client
from bench.httpclient import Connection, Target, connect, encode_request
from bench.load import path_of
from bench.stats import latency_summary_ms, percentile

POLL_S = 0.001
SAMPLE_TIMEOUT_S = 30.0
GAP_S = 0.05  # before each sample: the worker has relayed the last execution's events and is idle
FINISHED = ("completed", "failed", "cancelled")
ROW = "SELECT status, error, created_at, started_at, finished_at FROM executions WHERE id = $1"
STEP = "SELECT started_at, finished_at FROM execution_steps WHERE execution_id = $1 AND position = 0"


class Execute:
    """POST execute on one kept-alive connection, pre-encoded but for the input's number."""

    def __init__(self, url: str, api_key: str) -> None:
        self.target, self.path = Target.from_url(url), path_of(url)
        self.headers = {"content-type": "application/json", "authorization": f"Bearer {api_key}"}
        self.conn: Connection | None = None

    def request(self, number: int) -> bytes:
        body = json.dumps({"input": {"n": number}}).encode()
        return encode_request(self.target, "POST", self.path, self.headers, body)

    async def send(self, raw: bytes) -> str:
        if self.conn is None or self.conn.closed:
            self.conn = await connect(self.target)
        response = await self.conn.send(raw)
        if response.status != 202:
            raise RuntimeError(f"execute answered {response.status}: {response.body[:200]!r}")
        return str(json.loads(response.body)["executionId"])

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


async def finished_row(db: asyncpg.Connection, execution_id: str) -> tuple[asyncpg.Record, float]:
    """Poll the execution until it is finished (bounded); the row and when it was seen finished."""
    deadline = time.monotonic() + SAMPLE_TIMEOUT_S
    while True:
        row = await db.fetchrow(ROW, execution_id)
        if row is not None and row["status"] in FINISHED:
            return row, time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_id} not finished after {SAMPLE_TIMEOUT_S:g} s")
        await asyncio.sleep(POLL_S)


def _since(start: float | datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return end.timestamp() - (start if isinstance(start, float) else start.timestamp())


async def one_sample(
    execute: Execute, db: asyncpg.Connection, client: httpx.AsyncClient, call_url: str, number: int, gap: float
) -> dict[str, Any]:
    """One direct call, then one execution; their latencies in seconds and the execution's breakdown."""
    await asyncio.sleep(gap)
    started = time.perf_counter()
    status = await direct_call(client, call_url, number)
    direct = time.perf_counter() - started
    if not 200 <= status < 300:
        raise RuntimeError(f"direct call answered {status}")
    raw = execute.request(number)
    sent = time.time()
    execution_id = await execute.send(raw)
    row, seen = await finished_row(db, execution_id)
    if row["status"] != "completed":
        raise RuntimeError(f"execution {execution_id} {row['status']}: {row['error']}")
    step = await db.fetchrow(STEP, execution_id)
    return {
        "direct": direct,
        "workflow": seen - sent,
        "to_finished_at": _since(sent, row["finished_at"]),
        "accept": _since(sent, row["created_at"]),
        "pickup": _since(row["created_at"], row["started_at"]),
        "step": _since(step["started_at"], step["finished_at"]),
        "finish": _since(step["finished_at"], row["finished_at"]),
    }


WAKE_SAMPLES = 100


async def wake_cost(db: asyncpg.Connection, gap: float) -> dict[str, float | None]:
    """p50 of a bare `SELECT 1` round trip after `gap` idle seconds, and back to back (ms)."""

    async def timed() -> float:
        started = time.perf_counter()
        await db.fetchval("SELECT 1")
        return time.perf_counter() - started

    after_gap = []
    for _ in range(WAKE_SAMPLES):
        await asyncio.sleep(gap)
        after_gap.append(await timed())
    back_to_back = [await timed() for _ in range(WAKE_SAMPLES)]
    return {"after_gap": percentile_ms(after_gap, 50), "back_to_back": percentile_ms(back_to_back, 50)}


def _breakdown(taken: list[dict[str, Any]], q: float) -> dict[str, float | None]:
    """Each part's percentile on its own (the parts' p50s need not add up to the total's)."""
    parts = ("to_finished_at", "accept", "pickup", "step", "finish")
    return {part: percentile_ms([s[part] for s in taken], q) for part in parts}


def percentile_ms(values_s: list[float], q: float) -> float | None:
    """Nearest-rank percentile of seconds, in milliseconds."""
    found = percentile(sorted(values_s), q)
    return None if found is None else round(found * 1000, 3)


async def run(
    execute_url: str, api_key: str, call_url: str, database_url: str, samples: int, gap: float
) -> dict[str, Any]:
    execute, db = Execute(execute_url, api_key), await asyncpg.connect(database_url)
    try:
        async with new_client() as client:
            await one_sample(execute, db, client, call_url, -1, gap)  # warm-up: connections, caches
            taken = [await one_sample(execute, db, client, call_url, n, gap) for n in range(samples)]
            wake = await wake_cost(db, gap)
    finally:
        execute.close()
        await db.close()
    overheads = [s["workflow"] - s["direct"] for s in taken]
    return {
        "samples": len(taken),
        "step_overhead_ms": latency_summary_ms(overheads),
        "workflow_ms": latency_summary_ms([s["workflow"] for s in taken]),
        "direct_ms": latency_summary_ms([s["direct"] for s in taken]),
        "breakdown_ms_p50": _breakdown(taken, 50),
        "breakdown_ms_p90": _breakdown(taken, 90),
        "breakdown_ms_max": _breakdown(taken, 100),  # a lost wake shows as a pickup up to the poll interval
        "wake_ms": wake,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute-url", required=True, help="POST /api/v1/workflows/{id}/execute")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--call-url", required=True, help="the URL the workflow's step calls")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("-n", "--samples", type=int, default=200)
    parser.add_argument("--gap", type=float, default=GAP_S, help="idle seconds before each sample")
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(
        run(args.execute_url, args.api_key, args.call_url, args.database_url, args.samples, args.gap)
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
