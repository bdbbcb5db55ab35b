"""Baseline for figure 7: the workflow step's HTTP call made directly with bare httpx.

Run (with a receiver up): `python -m bench.baselines.direct_calls --url http://127.0.0.1:8199/hook -n 3000 -c 64`.

Each call is what the one-step `http_request` workflow sends: `POST {"n": i}` as JSON with an
`Idempotency-Key` header, its answer read. One `httpx.AsyncClient` with httpx's default pool (100
connections, 20 kept alive: the same limits as Gatehouse's outgoing client) and C lanes, so the
workflow runner at concurrency C is compared with the same client doing only the call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import httpx

from bench.sysstat import cpu_seconds

CONFIG = "httpx 1 client, concurrency C, default pool"


def new_client() -> httpx.AsyncClient:
    """Bare httpx, configured like Gatehouse's outgoing client minus its URL guard."""
    return httpx.AsyncClient(timeout=10.0, trust_env=False, follow_redirects=False)


async def direct_call(client: httpx.AsyncClient, url: str, number: int) -> int:
    """One call as the workflow step makes it; answers the status code."""
    headers = {"Idempotency-Key": f"exec_direct{number:020d}:call"}
    response = await client.post(url, json={"n": number}, headers=headers)
    return response.status_code


async def throughput(url: str, calls: int, concurrency: int) -> dict[str, Any]:
    """`calls` calls from `concurrency` lanes sharing one client; calls/s counts only 2xx answers."""
    counter = iter(range(calls))
    failures: list[str] = []

    async def lane(client: httpx.AsyncClient) -> int:
        ok = 0
        for number in counter:
            try:
                status = await direct_call(client, url, number)
            except (httpx.HTTPError, OSError) as exc:
                failures.append(repr(exc)[:200])
                continue
            ok += 200 <= status < 300
        return ok

    async with new_client() as client:
        cpu_before, started = cpu_seconds(), time.perf_counter()
        done = sum(await asyncio.wait_for(asyncio.gather(*(lane(client) for _ in range(concurrency))), 300))
        seconds = time.perf_counter() - started
    return {
        "config": CONFIG.replace("C", str(concurrency)),
        "calls": done,
        "seconds": round(seconds, 3),
        "per_s": round(done / seconds, 1),
        "cpu_us_per_call": round((cpu_seconds() - cpu_before) * 1e6 / max(1, done), 1),
        "errors": len(failures),
        "first_error": failures[0] if failures else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="bare httpx calls, as figure 7's workflow step makes them")
    parser.add_argument("--url", default="http://127.0.0.1:8199/hook")
    parser.add_argument("-n", "--calls", type=int, default=3000)
    parser.add_argument("-c", "--concurrency", type=int, default=64)
    args = parser.parse_args()
    import uvloop

    json.dump(uvloop.run(throughput(args.url, args.calls, args.concurrency)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
