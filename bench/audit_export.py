"""Figure 10a: `GET /api/v1/audit/export` of N entries and what it costs the server's memory.

The organization's trail is made directly in the database (N entries chained exactly as the sealer
chains them, resolvers/audit/chain.py, written with COPY: making 100,000 changes over the API would
take minutes and measure something else). Then one client streams the export, counting lines and
keeping none, while the server's RSS (/proc) is sampled every 20 ms: before, the peak during, and
after. Flat memory is the claim: the export reads keyset batches of 1,000 and writes each batch.

    python -m bench.audit_export --base-url URL --api-key K --org ORG --database-url DSN --server-pid PID [-n 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson

from app.core.ids import new_id
from bench.sysstat import process_memory_kb
from resolvers.audit.chain import GENESIS, ChainEntry, link

SAMPLE_SECONDS = 0.02
_COLUMNS = ("id", "organization_id", "type", "resource_id", "actor", "key_id", "agent_id", "changes", "request_id",
            "client_address", "created_at", "position", "hash")


def chained(org: str, count: int) -> list[tuple[Any, ...]]:
    """`count` sealed entries of `org`, a minute apart in the past, each a policy update."""
    start, previous, rows = datetime.now(UTC) - timedelta(minutes=count), GENESIS, []
    for position in range(1, count + 1):
        entry = ChainEntry(new_id("aud"), org, "policy.updated", "pol_bench", "key_bench", "key_bench", None,
                           {"before": {"name": f"p{position - 1}"}, "after": {"name": f"p{position}"}},
                           f"req{position}", "127.0.0.1", start + timedelta(minutes=position))
        previous = link(previous, entry, position)
        rows.append((entry.id, org, entry.type, entry.resource_id, entry.actor, entry.key_id, None,
                     orjson.dumps(entry.changes).decode(), entry.request_id, entry.client_address, entry.created_at,
                     position, previous))
    return rows


async def fill(database_url: str, org: str, count: int) -> None:
    db = await asyncpg.connect(database_url)
    try:
        await db.copy_records_to_table("audit_entries", records=chained(org, count), columns=_COLUMNS)
        await db.execute("INSERT INTO audit_chains (organization_id, position, hash, anchor_position) "
                         "SELECT $1::varchar, position, hash, 0 FROM audit_entries "
                         "WHERE organization_id = $1::varchar AND position IS NOT NULL "  # its key's entry: unsealed
                         "ORDER BY position DESC LIMIT 1", org)
    finally:
        await db.close()


def rss_mb(pid: int | None) -> float | None:
    kb = process_memory_kb(pid)
    return None if kb is None else round(kb / 1024, 1)


async def sample_peak(pid: int | None, done: asyncio.Event) -> float | None:
    peak: float | None = None
    while not done.is_set():
        now = rss_mb(pid)
        peak = now if peak is None or (now is not None and now > peak) else peak
        await asyncio.sleep(SAMPLE_SECONDS)
    return peak


async def export(args: argparse.Namespace) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {args.api_key}"}
    done = asyncio.Event()
    sampler = asyncio.create_task(sample_peak(args.server_pid, done))
    lines, size, started = 0, 0, time.perf_counter()
    async with httpx.AsyncClient(base_url=args.base_url, headers=headers, timeout=300) as client, \
            client.stream("GET", "/api/v1/audit/export") as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            lines += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.perf_counter() - started
    done.set()
    return {"entries": lines, "bytes": size, "seconds": round(seconds, 3),
            "entries_per_s": round(lines / seconds, 1), "rss_peak_mb": await sampler}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    await fill(args.database_url, args.org, args.n)
    before = rss_mb(args.server_pid)
    result = await export(args)
    await asyncio.sleep(1.0)
    after = rss_mb(args.server_pid)
    peak = result["rss_peak_mb"]
    return {**result, "rss_before_mb": before, "rss_after_mb": after,
            "rss_growth_mb": None if None in (before, peak) else round(peak - before, 1),
            "rss_after_growth_mb": None if None in (before, after) else round(after - before, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--org", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--server-pid", type=int, default=None)
    parser.add_argument("-n", type=int, default=100_000)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
