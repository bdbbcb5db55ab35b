"""Figure 9's gateway overhead: one forwarded tool call through /mcp/gateways/{name} against the
same call made directly to the upstream, one at a time, each sample pairing the two.

    python -m bench.mcp_gateway_latency --gateway-url URL --upstream-url URL --api-key K [-n 200]

Both sides use the official SDK client over Streamable HTTP, each with one session opened before
the samples (so session set-up is not counted), over both protocol revisions: the SDK's `Client`
in its default mode (2026-07-28, one self-contained POST a request, `Mcp-Param-*` headers checked)
and `ClientSession` after an initialize handshake (2025-06-18), the pairs of the two interleaved.
Prints one JSON object: for the default revision, direct and gateway latency percentiles and the
p50 of (gateway - direct) per sample; the same under `handshake` for the other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx2
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

from bench.stats import latency_summary_ms


async def _timed(session: ClientSession, text: str) -> float:
    started = time.perf_counter()
    result = await session.call_tool("echo", {"text": text})
    elapsed = time.perf_counter() - started
    if result.is_error or result.content[0].text != text:  # type: ignore[union-attr]
        raise RuntimeError(f"unexpected answer: {result.content!r}"[:300])
    return elapsed


async def _session(url: str, headers: dict[str, str], stack: Any, handshake: bool) -> ClientSession:
    client = await stack.enter_async_context(httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30)))
    if not handshake:
        modern = await stack.enter_async_context(Client(streamable_http_client(url, http_client=client)))
        await modern.session.list_tools()  # what a client does first; it also learns the tools' header names
        return modern.session
    read, write = await stack.enter_async_context(streamable_http_client(url, http_client=client))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    return session


def _summary(direct_s: list[float], gateway_s: list[float]) -> dict[str, Any]:
    overheads = [g - d for g, d in zip(gateway_s, direct_s, strict=True)]
    return {
        "direct_ms": latency_summary_ms(direct_s),
        "gateway_ms": latency_summary_ms(gateway_s),
        "overhead_ms": {"p50": round(statistics.median(overheads) * 1000, 2),
                        "mean": round(statistics.fmean(overheads) * 1000, 2)},
    }


async def run(gateway_url: str, upstream_url: str, api_key: str, samples: int) -> dict[str, Any]:
    from contextlib import AsyncExitStack

    timings: dict[bool, tuple[list[float], list[float]]] = {False: ([], []), True: ([], [])}
    async with AsyncExitStack() as stack:
        pairs = {}
        for handshake in (False, True):
            direct = await _session(upstream_url, {}, stack, handshake)
            gateway = await _session(gateway_url, {"Authorization": f"Bearer {api_key}"}, stack, handshake)
            await _timed(direct, "warm-up")
            await _timed(gateway, "warm-up")
            pairs[handshake] = (direct, gateway)
        for number in range(samples):
            for handshake, (direct, gateway) in pairs.items():
                direct_s, gateway_s = timings[handshake]
                direct_s.append(await _timed(direct, f"d{number}"))
                gateway_s.append(await _timed(gateway, f"g{number}"))
                await asyncio.sleep(0.01)
    return {"samples": samples, "requests": 4 * samples, "errors": 0, **_summary(*timings[False]),
            "handshake": _summary(*timings[True])}


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
