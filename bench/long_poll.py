"""Figure 8: 500 concurrent long-polls (`GET /actions/{id}?wait=N`) and what they cost the server.

Each long-poll waits on an in-memory future woken through the bus, holding no database connection
(resolvers/governance/waiting.py). This tool proves it from outside: with N pending actions it
reads the server's RSS (/proc) and the database's connections (pg_stat_activity: all of them, and
those not `idle`, i.e. working or inside a transaction) while idle, then opens N long-polls at
once and reads the same while they wait; then approves every action (32 at a time) and times each
poll's answer from its approval's request (approval, commit, wake through the bus, answer).

    python -m bench.long_poll --base-url URL --api-key K --server-pid PID --database-url DSN [-n 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import asyncpg
import httpx

from bench.stats import latency_summary_ms
from bench.sysstat import process_memory_kb

ACTION_TYPE = "bench_long_poll"
SETTLE_SECONDS = 2.0  # after the last poll is sent, before reading: every poll is parked by then
# Every connection to the bench database but this tool's own, by state.
_CONNECTIONS = """
SELECT count(*) AS total, count(*) FILTER (WHERE state IS DISTINCT FROM 'idle') AS busy
FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


async def reading(db: asyncpg.Connection, server_pid: int | None) -> dict[str, Any]:
    row = await db.fetchrow(_CONNECTIONS)
    kb = process_memory_kb(server_pid)
    return {"rss_mb": None if kb is None else round(kb / 1024, 1), "pg_connections": row["total"],
            "pg_busy": row["busy"]}


async def pending_actions(client: httpx.AsyncClient, count: int) -> list[str]:
    """`count` actions waiting for approval (a manual policy on ACTION_TYPE is made first)."""
    policy = {"name": "bench long-poll", "rules": [{"when": {"actionType": ACTION_TYPE}, "approval": "manual"}]}
    (await client.post("/policy", json=policy)).raise_for_status()
    ids: list[str] = []
    for start in range(0, count, 50):
        bodies = [{"type": ACTION_TYPE, "actor": {"kind": "agent"}, "params": {"n": i}}
                  for i in range(start, min(count, start + 50))]
        answers = await asyncio.gather(*(client.post("/actions", json=body) for body in bodies))
        ids += [answer.json()["actionId"] for answer in answers]
    return ids


def client(args: argparse.Namespace, connections: int) -> httpx.AsyncClient:
    """A client of its own per phase: a pooled connection left idle past the server's keep-alive
    (uvicorn: 5 s) would be closed under a later request."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=args.base_url, headers={"authorization": f"Bearer {args.api_key}"},
                             limits=limits, timeout=args.wait + 30)


async def approve_all(args: argparse.Namespace, ids: list[str]) -> tuple[dict[str, float], list[float]]:
    """Approve every action, 32 at a time: when each approval was sent (its poll may well be
    answered before the approval's own answer arrives: the wake goes out at commit), and how long
    each approval request took (the floor under the poll's answer)."""
    sent: dict[str, float] = {}
    took: list[float] = []
    async with client(args, 32) as c:

        async def approve(action_id: str) -> None:
            sent[action_id] = time.monotonic()
            answer = await c.post(f"/approvals/apr_{action_id[4:]}/approve")
            answer.raise_for_status()
            took.append(time.monotonic() - sent[action_id])

        for start in range(0, len(ids), 32):
            await asyncio.gather(*(approve(i) for i in ids[start:start + 32]))
    return sent, took


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    db = await asyncpg.connect(args.database_url)
    async with client(args, 50) as c:
        ids = await pending_actions(c, args.n)
    await asyncio.sleep(SETTLE_SECONDS)
    idle = await reading(db, args.server_pid)
    answered: dict[str, float] = {}
    async with client(args, args.n) as c:

        async def poll(action_id: str) -> str:
            answer = await c.get(f"/actions/{action_id}", params={"wait": args.wait})
            answered[action_id] = time.monotonic()
            return str(answer.json()["status"])

        polls = [asyncio.ensure_future(poll(i)) for i in ids]
        await asyncio.sleep(SETTLE_SECONDS)
        waiting = await reading(db, args.server_pid)
        early = len(answered)
        approved, approvals = await approve_all(args, ids)
        statuses = await asyncio.gather(*polls)
    await db.close()
    wakes = [answered[i] - approved[i] for i in ids]
    return {
        "polls": args.n, "wait_s": args.wait, "idle": idle, "waiting": waiting,
        "rss_kb_per_poll": None if idle["rss_mb"] is None or waiting["rss_mb"] is None
        else round((waiting["rss_mb"] - idle["rss_mb"]) * 1024 / args.n, 2),
        "answered_before_decision": early, "answered_approved": statuses.count("approved"),
        "wake_ms": latency_summary_ms(wakes), "approve_ms": latency_summary_ms(approvals),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--server-pid", type=int, default=None)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--wait", type=int, default=30)
    print(json.dumps(asyncio.run(measure(parser.parse_args()))))


if __name__ == "__main__":
    main()
