"""Figure 8's gateway overhead: one forwarded tool call through /mcp/gateways/{name} against the
same call made directly to the upstream, one at a time, each sample pairing the two.

    python -m bench.mcp_gateway_latency --gateway-url URL --upstream-url URL --api-key K [-n 200]

Both sides use the official SDK client over Streamable HTTP, each with one session opened before
the samples (so session set-up is not counted). Prints one JSON object: direct and gateway
latency percentiles and the p50 of (gateway - direct) per sample.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from bench.stats import latency_summary_ms


async def _timed(session: ClientSession, text: str) -> float:
    started = time.perf_counter()
    result = await session.call_tool("echo", {"text": text})
    elapsed = time.perf_counter() - started
    if result.is_error or result.content[0].text != text:  # type: ignore[union-attr]
        raise RuntimeError(f"unexpected answer: {result.content!r}"[:300])
    return elapsed


async def _session(url: str, headers: dict[str, str], stack: Any) -> ClientSession:
    client = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30)))
    read, write = await stack.enter_async_context(streamable_http_client(url, http_client=client))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    return session


async def run(gateway_url: str, upstream_url: str, api_key: str, samples: int) -> dict[str, Any]:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        direct = await _session(upstream_url, {}, stack)
        gateway = await _session(gateway_url, {"Authorization": f"Bearer {api_key}"}, stack)
        await _timed(direct, "warm-up")
        await _timed(gateway, "warm-up")
        direct_s, gateway_s = [], []
        for number in range(samples):
            direct_s.append(await _timed(direct, f"d{number}"))
            gateway_s.append(await _timed(gateway, f"g{number}"))
            await asyncio.sleep(0.01)
    overheads = [g - d for g, d in zip(gateway_s, direct_s, strict=True)]
    return {
        "samples": samples,
        "requests": samples,
        "errors": 0,
        "direct_ms": latency_summary_ms(direct_s),
        "gateway_ms": latency_summary_ms(gateway_s),
        "overhead_ms": {"p50": round(statistics.median(overheads) * 1000, 2),
                        "mean": round(statistics.fmean(overheads) * 1000, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway-url", required=True)
    parser.add_argument("--upstream-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.gateway_url, args.upstream_url, args.api_key, args.n))))


if __name__ == "__main__":
    main()
