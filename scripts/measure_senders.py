"""Which HTTP client should the webhook dispatcher send with? Measured, not guessed.

Run: `python scripts/measure_senders.py [-n 3000]`. Starts the bench receiver (a raw httptools
server far faster than any Python sender) on a free port, then sends the same signed ~300-byte
deliveries with each httpx and aiohttp configuration of `bench.baselines.senders` (owned by the
benchmark issue; reused so the figures are comparable with its harness), one after another in one
process, and prints deliveries/s and CPU per delivery for each.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.baselines.senders import CONFIGS, measure  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_receiver(port: int, secret: str | None = None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "bench.baselines.receiver", "--port", str(port)]
    proc = subprocess.Popen(command + (["--secret", secret] if secret else []), cwd=ROOT)
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/count", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("receiver did not start")


async def _run(url: str, deliveries: int, rounds: int) -> list[dict[str, object]]:
    results = []
    for round_number in range(rounds):
        for config in CONFIGS:
            result = await measure(config, url, deliveries)
            result["round"] = round_number
            results.append(result)
            print(json.dumps(result), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--deliveries", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    port = _free_port()
    receiver = _start_receiver(port)
    try:
        import uvloop

        uvloop.run(_run(f"http://127.0.0.1:{port}/hook", args.deliveries, args.rounds))
    finally:
        receiver.terminate()
        receiver.wait(5)


if __name__ == "__main__":
    main()
