"""Deliveries/s from one `gatehouse worker` process vs the bare aiohttp sender, same receiver, same run.

Run: `python scripts/measure_dispatcher.py [-n 3000]` with PostgreSQL and Redis on their defaults
(GATEHOUSE_BENCH_PG, GATEHOUSE_BENCH_REDIS override). A backlog of N pending deliveries is written
directly (so the figure is the dispatcher's alone, not the relay's), then one worker is started and
the rate is taken at the receiver, which verifies every X-Webhook-Signature.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.clock import utcnow  # noqa: E402
from app.core.crypto import generate_key, new_webhook_secret  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.core.settings import load_settings  # noqa: E402
from bench.baselines.senders import SenderConfig, measure  # noqa: E402
from models.db import close_database, migrate, open_database  # noqa: E402
from scripts.measure_senders import _free_port, _start_receiver  # noqa: E402

PG = os.environ.get("GATEHOUSE_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("GATEHOUSE_BENCH_REDIS", "redis://127.0.0.1:6379/13")
DB = "gatehouse_measure_dispatcher"


async def _fresh_database() -> str:
    conn = await asyncpg.connect(f"{PG}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DB}"')
    finally:
        await conn.close()
    return f"{PG}/{DB}"


async def _backlog(database_url: str, url: str, secret: str, count: int) -> None:
    from models.organizations import Organization
    from models.webhooks import Webhook, WebhookDelivery

    settings = load_settings(database_url=database_url)
    await migrate(settings)
    await close_database()
    await open_database(settings)
    org = await Organization.create(id=new_id("org"), name="measure", plan="enterprise")
    hook = await Webhook.create(id=new_id("wh"), organization_id=org.id, name="m", url=url, events=["*"],
                                secret=secret)
    data = {"actionId": "act_x", "type": "send_email", "actor": {"kind": "agent", "name": "bot"},
            "params": {"subject": "Welcome!"}, "status": "approved"}
    rows = [WebhookDelivery(id=new_id("dlv"), organization_id=org.id, webhook_id=hook.id, event_id=new_id("evt"),
                            event_type="action.approved", next_attempt_at=utcnow(),
                            payload=orjson.dumps({"id": new_id("evt"), "event": "action.approved",
                                                  "timestamp": "2026-01-01T00:00:00.000Z", "data": {**data, "n": i},
                                                  **data}).decode())
            for i in range(count)]
    await WebhookDelivery.bulk_create(rows, batch_size=1000)
    await close_database()


def _wait(receiver: str, expected: int, limit: float) -> dict:
    deadline = time.monotonic() + limit
    counts: dict = {}
    while time.monotonic() < deadline:
        counts = httpx.get(f"{receiver}/count", timeout=5).json()
        if counts["count"] >= expected:
            break
        time.sleep(0.2)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--deliveries", type=int, default=3000)
    parser.add_argument("--concurrency", default="32")  # the bare sender's concurrency
    args = parser.parse_args()
    secret = new_webhook_secret()
    port = _free_port()
    receiver = _start_receiver(port, secret)
    base = f"http://127.0.0.1:{port}"
    try:
        database_url = asyncio.run(_fresh_database())
        asyncio.run(_backlog(database_url, f"{base}/hook", secret, args.deliveries))
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS, "GATEHOUSE_LOG_LEVEL": "WARNING",
               "GATEHOUSE_ALLOW_PRIVATE_TARGETS": "true", "GATEHOUSE_WEBHOOK_CONCURRENCY": args.concurrency,
               "GATEHOUSE_ENCRYPTION_KEYS": f"measure:{generate_key()}"}
        worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], cwd=ROOT, env=env)
        try:
            counts = _wait(base, args.deliveries, 300)
        finally:
            worker.terminate()
            worker.wait(15)
        span = (counts["last"] or 0) - (counts["first"] or 0)
        dispatcher = round((counts["count"] - 1) / span, 1) if span > 0 else None
        httpx.post(f"{base}/reset")
        import uvloop

        bare = uvloop.run(measure(SenderConfig("aiohttp conc 32", "aiohttp", 32, pool_limit=32),
                                  f"{base}/hook", args.deliveries))
        print(json.dumps({"dispatcher_per_s": dispatcher, "receiver": counts, "bare_aiohttp": bare,
                          "ratio": round(dispatcher / bare["per_s"], 3) if dispatcher else None}))
    finally:
        receiver.terminate()
        receiver.wait(5)


if __name__ == "__main__":
    main()
