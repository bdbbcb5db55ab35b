"""Baseline for figure 6: bare Python webhook senders, httpx and aiohttp, each in several configurations.

Run (with the receiver up): `python -m bench.baselines.senders --url http://127.0.0.1:8199/hook -n 3000`.

Every delivery is what Gatehouse's dispatcher sends: a fresh ~300-byte JSON event, signed per
delivery (`X-Webhook-Signature` hex HMAC-SHA256 of the body, plus the Standard Webhooks trio), POSTed
and its answer read. The figure is deliveries/s for N deliveries from one process; the best
configuration of each library is reported, because the dispatcher is compared with the fastest
bare sender, and the webhooks issue asks which client and pool settings the data favours.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx

from bench.sysstat import cpu_seconds

SECRET = "whsec_" + base64.b64encode(b"bench-webhook-secret-32-bytes!!!").decode()
Send = Callable[[bytes, dict[str, str]], Awaitable[int]]
Senders = tuple[list[Send], Callable[[], Awaitable[None]]]  # one send per lane, and how to close


def signed_delivery(number: int, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    """One event body and its headers, signed as DESIGN.md says (hex HMAC and Standard Webhooks)."""
    delivery_id = f"dlv_{secrets.token_hex(12)}"
    now = datetime.now(UTC)
    body = json.dumps(
        {
            "id": f"evt_{secrets.token_hex(12)}",
            "event": "action.approved",
            "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "data": {
                "actionId": f"act_{secrets.token_hex(12)}",
                "type": "send_email",
                "status": "approved",
                "actor": {"kind": "agent", "name": "marketing-bot", "provider": "openai"},
                "target": "user@example.com",
                "params": {"subject": "Welcome!", "recipient_count": number},
            },
        }
    ).encode()
    return body, signed_headers(delivery_id, "action.approved", body, int(now.timestamp()), secret)


def signed_headers(delivery_id: str, event_type: str, body: bytes, stamp: int, secret: str = SECRET) -> dict[str, str]:
    """The headers every sender in figure 6 computes per delivery: hex HMAC and Standard Webhooks."""
    standard_key = base64.b64decode(secret.removeprefix("whsec_"))
    standard = hmac.new(standard_key, f"{delivery_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "x-webhook-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "x-webhook-event": event_type,
        "x-webhook-delivery": delivery_id,
        "webhook-id": delivery_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + base64.b64encode(standard).decode(),
    }


@dataclass(frozen=True)
class SenderConfig:
    """One way to send: library, how many clients, how many deliveries in flight, pool limit."""

    name: str
    library: str
    concurrency: int
    clients: int = 1
    pool_limit: int | None = None  # None: the library's default pool


CONFIGS = [
    SenderConfig("httpx 1 client, concurrency 8", "httpx", 8),
    SenderConfig("httpx 8 clients, 1 each", "httpx", 8, clients=8),
    SenderConfig("httpx 1 client, concurrency 64, default pool", "httpx", 64),
    SenderConfig("httpx 1 client, concurrency 64, pool 8", "httpx", 64, pool_limit=8),
    SenderConfig("httpx 1 client, concurrency 16, pool 16", "httpx", 16, pool_limit=16),
    SenderConfig("aiohttp 1 session, concurrency 8, limit 8", "aiohttp", 8, pool_limit=8),
    SenderConfig("aiohttp 1 session, concurrency 32, limit 32", "aiohttp", 32, pool_limit=32),
    SenderConfig("aiohttp 1 session, concurrency 64, limit 16", "aiohttp", 64, pool_limit=16),
]


def _httpx_client(config: SenderConfig) -> httpx.AsyncClient:
    limits = httpx.Limits()
    if config.pool_limit is not None:
        limits = httpx.Limits(max_connections=config.pool_limit, max_keepalive_connections=config.pool_limit)
    return httpx.AsyncClient(limits=limits, timeout=10.0, trust_env=False)


async def _httpx_senders(config: SenderConfig, url: str) -> Senders:
    clients = [_httpx_client(config) for _ in range(config.clients)]

    def sender(client: httpx.AsyncClient) -> Send:
        async def send(body: bytes, headers: dict[str, str]) -> int:
            response = await client.post(url, content=body, headers=headers)
            return response.status_code

        return send

    async def close() -> None:
        await asyncio.gather(*(client.aclose() for client in clients))

    return [sender(clients[i % len(clients)]) for i in range(config.concurrency)], close


async def _aiohttp_senders(config: SenderConfig, url: str) -> Senders:
    connector = aiohttp.TCPConnector(limit=config.pool_limit or 100)
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10))

    async def send(body: bytes, headers: dict[str, str]) -> int:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    return [send] * config.concurrency, session.close


async def measure(config: SenderConfig, url: str, deliveries: int) -> dict[str, Any]:
    """Send `deliveries` signed payloads with `config`; deliveries/s counts only 2xx answers."""
    make = _httpx_senders if config.library == "httpx" else _aiohttp_senders
    senders, close = await make(config, url)
    counter = iter(range(deliveries))
    failures: list[str] = []

    async def lane(send: Send) -> int:
        ok = 0
        for number in counter:
            try:
                status = await send(*signed_delivery(number))
            except (httpx.HTTPError, aiohttp.ClientError, OSError, TimeoutError) as exc:
                failures.append(repr(exc)[:200])
                continue
            ok += 200 <= status < 300
        return ok

    cpu_before, started = cpu_seconds(), time.perf_counter()
    try:
        delivered = sum(await asyncio.wait_for(asyncio.gather(*(lane(s) for s in senders)), 120))
    finally:
        await close()
    seconds = time.perf_counter() - started
    return {
        "name": config.name,
        "library": config.library,
        "deliveries": delivered,
        "seconds": round(seconds, 3),
        "per_s": round(delivered / seconds, 1),
        "cpu_us_per_delivery": round((cpu_seconds() - cpu_before) * 1e6 / max(1, delivered), 1),
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
    }


def best_per_library(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The fastest configuration of each library (the figure compares against the fastest of all)."""
    best: dict[str, dict[str, Any]] = {}
    for result in results:
        current = best.get(result["library"])
        if current is None or result["per_s"] > current["per_s"]:
            best[result["library"]] = result
    return best


async def run(url: str, deliveries: int, names: list[str] | None) -> dict[str, Any]:
    configs = [c for c in CONFIGS if not names or any(n in c.name for n in names)]
    results = [await measure(config, url, deliveries) for config in configs]
    return {"configs": results, "best": best_per_library(results)}


def main() -> None:
    parser = argparse.ArgumentParser(description="bare webhook senders (httpx, aiohttp)")
    parser.add_argument("--url", default="http://127.0.0.1:8199/hook")
    parser.add_argument("-n", "--deliveries", type=int, default=3000)
    parser.add_argument("--config", action="append", help="substring of a configuration name")
    args = parser.parse_args()
    import uvloop

    json.dump(uvloop.run(run(args.url, args.deliveries, args.config)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
