"""Figure 6 alone: one `gatehouse worker` draining a backlog of proposals' events into webhook
deliveries, alternated with the bare aiohttp sender, so each ratio pairs two measurements taken
back to back on a fresh `gatehouse_bench` database (the full harness runs it after figures 1-5).

Run: `python scripts/measure_figure6.py [rounds] [--profile]` with PostgreSQL and Redis up. Prints
one line per side and round: deliveries/s and CPU microseconds per delivery (the worker's from its
first delivery on, relay included). `--profile` adds a py-spy sample of the worker at the end
(bench/out/profile-webhooks-worker.txt).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import profile, sysstat  # noqa: E402
from bench.baselines.senders import SECRET  # noqa: E402
from bench.budget import FULL  # noqa: E402
from bench.gatehouse import GatehouseConfig, GatehouseSide, delivery_rate  # noqa: E402
from bench.procs import PYTHON, Service, free_port, run_json  # noqa: E402

BARE = "aiohttp 1 session, concurrency 32"


def bare_sender(receiver_url: str) -> dict[str, Any]:
    cmd = [PYTHON, "-m", "bench.baselines.senders", "--url", f"{receiver_url}/hook", "-n", str(FULL.deliveries),
           "--config", BARE]
    result: dict[str, Any] = run_json(cmd, timeout=120)["configs"][0]
    return result


def drain_by_process(_pid: int, wait: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Wait for the backlog to drain, printing each process's CPU per delivery meanwhile."""
    before = sysstat.cpu_by_command()
    counts = wait()
    print("drain", sysstat.cpu_spent_since(before, sysstat.cpu_by_command(), counts["count"]), flush=True)
    return counts


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3
    side = GatehouseSide(GatehouseConfig(), FULL)
    side.start()
    port = free_port()
    receiver = Service("receiver", [PYTHON, "-m", "bench.baselines.receiver", "--port", str(port),
                                    "--secret", SECRET], port, "/count").start()
    try:
        for _ in range(rounds):
            ours = side.webhooks(drain_by_process)
            print("worker", ours["per_s"], ours["worker_cpu_us_per_delivery"], flush=True)
            before = sysstat.cpu_by_command()
            bare = bare_sender(f"http://127.0.0.1:{port}")
            spent = sysstat.cpu_spent_since(before, sysstat.cpu_by_command(), FULL.deliveries)
            print("bare machine", spent, flush=True)
            ratio = round(ours["per_s"] / bare["per_s"], 3) if ours["per_s"] else None
            print("bare  ", bare["per_s"], bare["cpu_us_per_delivery"], "ratio", ratio, flush=True)
        if "--profile" in sys.argv:
            def sample(pid: int, wait: Any) -> dict[str, Any]:
                counts: dict[str, Any] = {}

                def drain() -> dict[str, Any]:
                    counts.update(wait())
                    return {"rps": delivery_rate(counts), "server_cpu_us_per_request": None}

                print(profile.record(pid, "webhooks-worker", FULL.profile_seconds, drain))
                return counts

            side.webhooks(sample)
    finally:
        receiver.stop()
        side.stop()


if __name__ == "__main__":
    main()
