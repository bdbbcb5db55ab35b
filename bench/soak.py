"""`make bench-soak`: memory over time under a steady mixed load (not part of `make test`).

For `--minutes` (10): proposals at `--rate` per second, each made pending by a manual policy and
approved a moment later; a webhook on every event, delivered by `gatehouse worker` to a local
receiver; `--subscribers` (500) open `pendingApprovals` subscriptions (bench/wsclient.py) on the
server. The server's and the worker's RSS are read every SAMPLE_SECONDS. Pass: each ends within
TOLERANCE of its value after the first minute (start-up, caches and pools fill during that minute).
The curve is drawn to bench/out/soak-memory.png (matplotlib, the `bench` extra); the samples and
the verdict go to bench/out/soak.json.

Run alone: `python -m bench.soak [--minutes 10] [--rate 5] [--subscribers 500]`. It starts its own
server, worker and receiver on a fresh `gatehouse_bench_soak` database (BENCH_SOAK_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.budget import FULL
from bench.dashboards import raise_open_files
from bench.gatehouse import DEFAULT_ENV, GatehouseConfig, GatehouseSide, Org, create_policies
from bench.procs import BENCH_DIR, OUT_DIR
from bench.sysstat import process_memory_kb
from bench.wsclient import open_subscriber

SAMPLE_SECONDS = 10.0
REFERENCE_SECONDS = 60.0
TOLERANCE = 0.10
SOAK_TYPE = "soak_review"
QUERY = "subscription { pendingApprovals { seq change approval { id status } action { id type status } } }"
OUT = OUT_DIR


@dataclass
class Load:
    """What the steady load did, for the report (a soak that stopped working must not pass)."""

    proposals: int = 0
    approvals: int = 0
    failures: list[str] = field(default_factory=list)
    receipts: int = 0


async def _one(client: httpx.AsyncClient, load: Load) -> None:
    """Propose, wait a moment as a reviewer would, approve."""
    try:
        proposed = await client.post("/actions", json={"type": SOAK_TYPE, "actor": {"kind": "agent"},
                                                       "params": {"n": load.proposals}})
        load.proposals += 1
        approval = proposed.json().get("approvalId")
        if proposed.status_code != 201 or not approval:
            load.failures.append(f"propose {proposed.status_code}: {proposed.text[:120]}")
            return
        await asyncio.sleep(1.0)
        approved = await client.post(f"/approvals/{approval}/approve", json={})
        if approved.status_code != 200:
            load.failures.append(f"approve {approved.status_code}: {approved.text[:120]}")
            return
        load.approvals += 1
    except httpx.HTTPError as exc:
        load.failures.append(repr(exc)[:160])


async def _steady(base_url: str, org: Org, rate: float, until: float, load: Load) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=org.headers, timeout=30) as client:
        tasks: set[asyncio.Task[None]] = set()
        start, n = time.perf_counter(), 0
        while time.perf_counter() < until:
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            task = asyncio.create_task(_one(client, load))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks)


async def _sample(pids: dict[str, int], until: float, started: float, load: Load,
                  samples: list[dict[str, Any]]) -> None:
    while True:
        row = {"t": round(time.perf_counter() - started, 1), "proposals": load.proposals, "receipts": load.receipts}
        row.update({f"{name}_kb": process_memory_kb(pid) for name, pid in pids.items()})
        samples.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if time.perf_counter() >= until:
            return
        await asyncio.sleep(SAMPLE_SECONDS)


def verdict(samples: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Each process: its RSS at the first sample past REFERENCE_SECONDS against its last one."""
    reference = next(s for s in samples if s["t"] >= REFERENCE_SECONDS)
    last = samples[-1]
    result: dict[str, Any] = {}
    for name in names:
        ref, end = reference[f"{name}_kb"], last[f"{name}_kb"]
        change = (end - ref) / ref
        result[name] = {"after_first_minute_kb": ref, "end_kb": end, "change": round(change, 4),
                        "pass": abs(change) <= TOLERANCE}
    result["pass"] = all(result[name]["pass"] for name in names)
    return result


def plot(samples: list[dict[str, Any]], names: list[str], path: Path) -> Path | None:
    """The RSS curves, with the band the end must fall in; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return None
    figure, axis = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    minutes = [s["t"] / 60 for s in samples]
    reference = next(s for s in samples if s["t"] >= REFERENCE_SECONDS)
    for name in names:
        (line,) = axis.plot(minutes, [s[f"{name}_kb"] / 1024 for s in samples], label=name)
        ref = reference[f"{name}_kb"] / 1024
        axis.axhspan(ref * (1 - TOLERANCE), ref * (1 + TOLERANCE), color=line.get_color(), alpha=0.1)
    axis.axvline(REFERENCE_SECONDS / 60, linestyle=":", linewidth=1)
    axis.set_xlabel("minutes")
    axis.set_ylabel("RSS (MB)")
    axis.set_title("bench-soak: RSS of serve and worker (band: +/-10% of minute one)", fontsize=9)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


async def _soak(args: argparse.Namespace, side: GatehouseSide, org: Org) -> dict[str, Any]:
    assert side.server is not None and side.server.pid is not None
    worker = side.start_worker()
    assert worker.pid is not None
    load = Load()

    def on_receipt(_number: int, _action_id: bytes, _at: float) -> None:
        load.receipts += 1

    host, port = side.base_url.removeprefix("http://").rsplit(":", 1)
    subscribers = [await open_subscriber(n, host, int(port), org.api_key, QUERY, on_receipt)
                   for n in range(args.subscribers)]
    started = time.perf_counter()
    until = started + args.minutes * 60
    samples: list[dict[str, Any]] = []
    pids = {"serve": side.server.pid, "worker": worker.pid}
    await asyncio.gather(_steady(side.base_url, org, args.rate, until, load),
                         _sample(pids, until, started, load, samples))
    closed = [s.closed for s in subscribers if s.closed]
    for subscriber in subscribers:
        if subscriber.transport is not None:
            subscriber.transport.close()
    delivered: dict[str, Any] = {}
    if side.hook_receiver is not None:
        async with httpx.AsyncClient() as client:
            delivered = (await client.get(side.hook_receiver.url + "/count")).json()
    return {"samples": samples, "load": {"proposals": load.proposals, "approvals": load.approvals,
                                         "failures": len(load.failures), "first_failures": load.failures[:5],
                                         "subscription_frames": load.receipts, "subscribers_closed": len(closed),
                                         "webhook_deliveries": delivered.get("count")}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=5.0, help="proposals per second (each approved a second later)")
    parser.add_argument("--subscribers", type=int, default=500)
    args = parser.parse_args(argv)
    raise_open_files()
    database = os.environ.get("BENCH_SOAK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatehouse_bench_soak")
    side = GatehouseSide(GatehouseConfig(env={**DEFAULT_ENV, "DATABASE_URL": database}), FULL)
    side.start()
    try:
        org, _receiver = side._webhook_receiver()  # an organization with a webhook to a local receiver
        create_policies(side.base_url, org, 1, matching_type=SOAK_TYPE)
        result = asyncio.run(_soak(args, side, org))
    finally:
        side.stop()
    names = ["serve", "worker"]
    result["verdict"] = verdict(result["samples"], names)
    png = plot(result["samples"], names, OUT / "soak-memory.png")
    result["plot"] = None if png is None else str(png.relative_to(BENCH_DIR.parent))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    _print(result, names)
    if not result["verdict"]["pass"] or result["load"]["failures"]:
        sys.exit(1)


def _print(result: dict[str, Any], names: list[str]) -> None:
    verdict_ = result["verdict"]
    for name in names:
        v = verdict_[name]
        print(f"{name:7} RSS after minute one {v['after_first_minute_kb'] / 1024:7.1f} MB, at the end "
              f"{v['end_kb'] / 1024:7.1f} MB ({v['change']:+.1%}): {'pass' if v['pass'] else 'FAIL'}")
    print(f"load: {json.dumps(result['load'])}")
    print(f"plot: {result['plot']}")
    print(f"bench-soak: {'PASS' if verdict_['pass'] else 'FAIL'} (each process within {TOLERANCE:.0%} of minute one)")


if __name__ == "__main__":
    main()
