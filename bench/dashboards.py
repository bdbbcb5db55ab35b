"""Figure 12: 10,000 open `pendingApprovals` dashboards on one server process.

Subscribers are spread over several organizations of unequal size, each organization's over a few
documents (so some share a document, and the hub renders once per document); proposals arrive at
a fixed rate, one organization after another. The subscribers live in `--processes` child
processes (`python -m bench.dashboards client`), each holding its share of sockets with the light
client of bench/wsclient.py; the proposer is this process. Both sides read CLOCK_MONOTONIC
(time.perf_counter), so a receipt in a child and an answer here are comparable.

Reported: the delivered share (every subscriber of an organization must get each of its proposals
once), answer-to-receipt latency, server RSS per open subscription ((RSS with all open - RSS
idle) / subscribers), and server CPU per delivery over the proposal phase (with the cores used).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from bench.fleet import DEFAULT_PROPOSAL, FleetSpec, Proposer
from bench.stats import latency_summary_ms
from bench.sysstat import Reading, cores_used, process_memory_kb
from bench.wsclient import open_subscriber

# A few documents per organization: the same fields selected differently, as different dashboards do.
DOCUMENTS = (
    "subscription { pendingApprovals { event approval { id status } action { id type status } } }",
    "subscription { pendingApprovals { seq change action { id type status params } } }",
    "subscription Dash { pendingApprovals { seq eventId approval { id status } action { id type } } }",
    "subscription { pendingApprovals { change timestamp action { id status } } }",
)
ORG_SHARES = (0.4, 0.3, 0.2, 0.1)  # organizations of unequal size: the largest one's events fan out widest
CONNECT_CONCURRENCY = 100


def raise_open_files() -> int:
    """Sockets are files: take the hard limit (10,000 sockets here, as many in the server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def plan(subscribers: int, orgs: int) -> list[tuple[int, int]]:
    """(organization, document) per subscriber; documents rotate within an organization."""
    shares = ORG_SHARES[:orgs]
    counts = [int(subscribers * share / sum(shares)) for share in shares]
    counts[0] += subscribers - sum(counts)
    return [(org, n % len(DOCUMENTS)) for org, count in enumerate(counts) for n in range(count)]


# -- the child: holds its sockets, records receipts, answers on "stop" --------------------------------
async def _client(args: argparse.Namespace) -> None:
    raise_open_files()
    config = json.loads(sys.stdin.readline())  # the first line: host, port, keys, this child's subscribers
    keys, mine = config["keys"], config["plan"]
    received: dict[bytes, list[float]] = defaultdict(list)
    seen: set[tuple[int, bytes]] = set()
    duplicates = 0

    def on_receipt(number: int, action_id: bytes, at: float) -> None:
        nonlocal duplicates
        if (number, action_id) in seen:
            duplicates += 1
            return
        seen.add((number, action_id))
        received[action_id].append(at)

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    failures: list[str] = []

    async def one(number: int, org: int, document: int) -> Any:
        async with gate:
            try:
                return await open_subscriber(number, config["host"], config["port"], keys[org], DOCUMENTS[document],
                                             on_receipt)
            except (OSError, ConnectionError, TimeoutError) as exc:
                failures.append(repr(exc)[:160])
                return None

    opened = [s for s in await asyncio.gather(*(one(n, o, d) for n, o, d in mine)) if s is not None]
    print(json.dumps({"ready": len(opened), "failures": failures[:3], "failure_count": len(failures)}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "stop"
    closed = [s.closed for s in opened if s.closed]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "received": {k.decode(): v for k, v in received.items()},
        "duplicates": duplicates,
        "closed_early": len(closed),
        "closed_reasons": closed[:3],
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }), flush=True)
    for subscriber in opened:
        if subscriber.transport is not None:
            subscriber.transport.close()


# -- the coordinator --------------------------------------------------------------------------------
def _spawn(args: argparse.Namespace, keys: list[str], slices: list[list[tuple[int, tuple[int, int]]]]
           ) -> list[subprocess.Popen[str]]:
    host, port = args.base_url.removeprefix("http://").rsplit(":", 1)
    children = []
    for part in slices:
        config = json.dumps({"host": host, "port": int(port), "keys": keys,
                             "plan": [(n, o, d) for n, (o, d) in part]})
        child = subprocess.Popen([sys.executable, "-m", "bench.dashboards", "client"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdin is not None
        child.stdin.write(config + "\n")
        child.stdin.flush()
        children.append(child)
    return children


def _collect(children: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    answers = []
    for child in children:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write("stop\n")
        child.stdin.flush()
        answers.append(json.loads(child.stdout.readline()))
        child.wait(30)
    return answers


async def _propose(args: argparse.Namespace, keys: list[str], count: int, rate: float
                   ) -> tuple[dict[bytes, tuple[int, float]], list[str]]:
    """`count` proposals at `rate`, organization after organization: action id -> (org, answered at)."""
    proposers = [Proposer(FleetSpec(ws_url="", propose_url=args.base_url + "/actions", api_key=key,
                                    proposal={**DEFAULT_PROPOSAL, "type": args.action_type})) for key in keys]
    start, tasks = time.perf_counter(), []
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        tasks.append((i % len(keys), asyncio.create_task(proposers[i % len(keys)].propose())))
    answered: dict[bytes, tuple[int, float]] = {}
    for org, task in tasks:
        action_id = await task
        if action_id is not None:
            answered[action_id] = (org, proposers[org].answered[action_id][1])
    for proposer in proposers:
        proposer.pool.close()
    return answered, [f for p in proposers for f in p.failures][:5]


def _analyse(answered: dict[bytes, tuple[int, float]], answers: list[dict[str, Any]], sizes: list[int]
             ) -> dict[str, Any]:
    latencies: list[float] = []
    delivered = 0
    slowest: list[tuple[float, int, float, float]] = []  # (last receipt, organization, first receipt, answered)
    for action_id, (org, answered_at) in answered.items():
        mine = [t - answered_at for answer in answers for t in answer["received"].get(action_id.decode(), [])]
        delivered += len(mine)
        latencies.extend(mine)
        if mine:
            slowest.append((max(mine), org, min(mine), answered_at))
    expected = sum(sizes[org] for org, _ in answered.values())
    return {
        "expected": expected,
        "delivered": delivered,
        "delivered_share": round(delivered / expected, 4) if expected else None,
        "duplicates": sum(a["duplicates"] for a in answers),
        "latency_ms": latency_summary_ms(latencies),
        # the proposals whose last subscriber waited longest: one slow burst, or slow everywhere?
        # (answered_at: perf_counter seconds, to set beside the server's own timings, e.g. a gc callback's)
        "slowest_proposals_ms": [
            {"org": org, "first": round(first * 1e3, 1), "last": round(last * 1e3, 1), "answered_at": round(at, 3)}
            for last, org, first, at in sorted(slowest, reverse=True)[:5]
        ],
    }


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    raise_open_files()
    keys = args.api_keys.split(",")
    subscribers = plan(args.subscribers, len(keys))
    sizes = [sum(1 for o, _ in subscribers if o == org) for org in range(len(keys))]
    numbered = list(enumerate(subscribers))
    slices = [numbered[i::args.processes] for i in range(args.processes)]
    idle_kb = process_memory_kb(args.server_pid)
    started = time.perf_counter()
    children = _spawn(args, keys, slices)
    ready = [json.loads(child.stdout.readline()) for child in children if child.stdout is not None]
    connect_s = time.perf_counter() - started
    open_kb = process_memory_kb(args.server_pid)
    settle, _ = await _propose(args, keys, len(keys), 4.0)  # one per organization: every subscription is live
    await asyncio.sleep(args.settle)
    before = Reading.now(args.server_pid)
    answered, failures = await _propose(args, keys, int(args.rate * args.duration), args.rate)
    await asyncio.sleep(args.drain)
    after = Reading.now(args.server_pid)
    answers = _collect(children)
    result = _analyse(answered, answers, sizes)
    opened = sum(r["ready"] for r in ready)
    server_cpu = None if before.server_cpu is None or after.server_cpu is None else after.server_cpu - before.server_cpu
    return {
        **result,
        "settle": _analyse(settle, answers, sizes)["delivered_share"],
        "subscribers": opened,
        "subscribers_requested": args.subscribers,
        "organizations": sizes,
        "documents_per_organization": len(DOCUMENTS),
        "client_processes": args.processes,
        "connect_failure_count": sum(r["failure_count"] for r in ready),
        "connect_failures": [f for r in ready for f in r["failures"]][:3],
        "connect_s": round(connect_s, 1),
        "proposals": len(answered),
        "proposal_failures": failures,
        "closed_early": sum(a["closed_early"] for a in answers),
        "closed_reasons": [r for a in answers for r in a["closed_reasons"]][:3],
        "server_memory_kb": {"idle": idle_kb, "open": open_kb, "after": process_memory_kb(args.server_pid)},
        "server_kb_per_subscription":
            round((open_kb - idle_kb) / opened, 1) if open_kb and idle_kb and opened else None,
        "server_cpu_s": None if server_cpu is None else round(server_cpu, 2),
        "server_cpu_us_per_delivery": round(server_cpu * 1e6 / result["delivered"], 1)
        if server_cpu and result["delivered"] else None,
        "server_cpu_share": None if server_cpu is None else round(server_cpu / (after.wall - before.wall), 3),
        "cores": cores_used(before, after),
        "client_cpu_s": [a["cpu_s"] for a in answers],
        "client_max_rss_mb": [a["max_rss_mb"] for a in answers],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboards")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("client", help="(internal) hold a share of the subscribers")
    run = sub.add_parser("run", help="the figure: subscribers, proposals, analysis as JSON")
    run.add_argument("--base-url", required=True)
    run.add_argument("--api-keys", required=True, help="one key per organization, comma-separated")
    run.add_argument("--server-pid", type=int, default=None)
    run.add_argument("--subscribers", type=int, default=10_000)
    run.add_argument("--processes", type=int, default=2)
    run.add_argument("--rate", type=float, default=2.0)
    run.add_argument("--duration", type=float, default=30.0)
    run.add_argument("--settle", type=float, default=3.0)
    run.add_argument("--drain", type=float, default=5.0)
    run.add_argument("--action-type", default="bench_pending_review")
    args = parser.parse_args(argv)
    if args.command == "client":
        asyncio.run(_client(args))
    else:
        print(json.dumps(asyncio.run(_run(args))))


if __name__ == "__main__":
    main()
